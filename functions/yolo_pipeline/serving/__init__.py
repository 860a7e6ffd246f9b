"""The inference server: SageMaker's hosting contract (``serve``, port 8080, ``GET /ping``,
``POST /invocations``) on a trained model, used alike by the inference image, by
``yolo-pipeline serve`` and by the demo. See docs/serving.md.

Modules: ``model_files`` finds the weights (and nothing else) in a model folder or archive;
``requests`` parses and bounds a request; ``responses`` turns Ultralytics results into the JSON
answer; ``predictor`` loads the weights safely and runs Ultralytics; ``server`` is the HTTP
layer; ``client`` talks to a server; ``demo_stage`` is the offline demo's last stage.
"""
