"""Send a local dataset to S3 so the launcher sees it whole: the library behind ``upload``.

``destination`` reads the S3 URI, ``etag`` predicts each file's ETag, ``plan`` compares the
folder with what is already there, ``transfer`` moves the bytes, ``send`` orders the uploads
(data.yaml last), ``messages`` says what happens next. The command line is ``cli.upload``.
"""
