# yolo-on-upload. `make demo` and `make test` bootstrap themselves from nothing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
# python3.13 (the Lambda runtime) from pyenv, when present, for `sam build`.
PY313_BIN := $(shell d=$$(pyenv root 2>/dev/null)/versions/3.13.0/bin; [ -x $$d/python3.13 ] && echo $$d)
SAM_PATH := $(if $(PY313_BIN),$(PY313_BIN):)$(CURDIR)/$(SAM_VENV)/bin:$(PATH)
STACK_NAME ?= yolo-on-upload
AWS_REGION ?= $(or $(AWS_DEFAULT_REGION),$(shell aws configure get region 2>/dev/null || echo us-east-1))
IMAGE_TAG ?= latest
DEMO_DIR ?= demo
DEMO_EPOCHS ?= 30

.PHONY: help setup tools lock test test-unit test-integration test-training test-template lint \
        demo build deploy image clean

help: ## list every target (the default)
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# Third-party packages come from a venv cached outside the clone, keyed on the lock's hash
# (rebuilt when it changes); .venv is this clone's own small venv chained to it, with the
# project installed editable from this clone every time: what is under test is never cached.
# The *.lock files pin every transitive package (scripts/lock.sh compiles them from the
# requirements*.txt a person edits), so a fresh machine installs exactly what CI tested.
setup: ## create .venv with everything (app, training stack, test tools)
	@PYTHON=$(PYTHON) scripts/bootstrap-venv.sh $(VENV) requirements-dev.lock --project

tools: ## create the template tool venvs (sam + cfn-lint, checkov + hadolint)
	@PYTHON=$(PYTHON) scripts/bootstrap-venv.sh $(SAM_VENV) requirements-sam.lock
	@PYTHON=$(PYTHON) scripts/bootstrap-venv.sh $(CHECKOV_VENV) requirements-checkov.lock

lock: ## recompile the *.lock files, then derive the image's and the Lambdas' pins from them
	@PYTHON=$(PYTHON) scripts/lock.sh
	$(MAKE) setup
	$(PY) scripts/derive_locks.py

test: setup tools ## everything CI runs: lint, type checks, all test tiers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	PATH="$(SAM_PATH)" $(PY) -m pytest

test-unit: setup ## fast tier
	$(PY) -m pytest -m unit
test-integration: setup ## moto tier: Lambda handlers and the CLI against mocked AWS
	$(PY) -m pytest -m integration
test-training: setup ## real CPU training tier (slow)
	$(PY) -m pytest -m training
test-template: setup tools ## SAM template, linters and policy checks
	PATH="$(SAM_PATH)" $(PY) -m pytest -m template

lint: setup tools ## ruff, mypy, sam validate --lint, cfn-lint, checkov, hadolint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	PATH="$(SAM_PATH)" sam validate --lint --region $(AWS_REGION)
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --framework cloudformation --skip-download -f template.yaml
	$(CHECKOV_VENV)/bin/hadolint training_image/Dockerfile inference_image/Dockerfile

# 30 epochs: ~55 s of training on 2 CPU cores, mAP50 ~0.99 on the sample (15 give ~0.65).
demo: setup ## offline end to end: sample dataset, validate, request, CPU training, email, served prediction
	$(VENV)/bin/yolo-pipeline sample-dataset $(DEMO_DIR)/shapes
	$(VENV)/bin/yolo-pipeline local $(DEMO_DIR)/shapes --epochs $(DEMO_EPOCHS) --workdir $(DEMO_DIR)/run

build: tools ## sam build (python3.13 from pyenv on PATH when present)
	@PATH="$(SAM_PATH)" python3.13 -c '' 2>/dev/null \
	  || { echo "sam build needs python3.13 (the Lambda runtime): pyenv install 3.13.0" >&2; exit 1; }
	PATH="$(SAM_PATH)" sam build

# Region and stack name are passed explicitly so `make deploy` and `make image` agree.
# First deploy: `make deploy DEPLOY_FLAGS=--guided` (asks for NotificationEmail and the rest).
# Deploy, then build the training and inference images, so the stack is ready to train when it ends
# (SKIP_IMAGE=1: deploy only, e.g. a template change with the image unchanged).
deploy: build ## sam deploy, then make image (first time: make deploy DEPLOY_FLAGS=--guided)
	PATH="$(SAM_PATH)" sam deploy --stack-name $(STACK_NAME) --region $(AWS_REGION) $(DEPLOY_FLAGS)
ifneq ($(SKIP_IMAGE),1)
	$(MAKE) --no-print-directory image STACK_NAME=$(STACK_NAME) AWS_REGION=$(AWS_REGION) IMAGE_TAG=$(IMAGE_TAG)
endif

# Default: build in the stack's CodeBuild project (no local Docker; the push stays in AWS),
# with `yolo-pipeline image` run by the SAM tools' Python (boto3 is all it needs).
# LOCAL=1: build both images with the local Docker engine (buildx) and push from this machine.
# SageMaker only pulls Docker v2 schema 2 manifests: no provenance/SBOM attestations (they
# turn the push into an OCI image index) and no OCI media types (training_image/buildspec.yml
# uses the same flags).
image: ## build the training and inference images and push them to the stack's ECR repositories (LOCAL=1: local docker)
ifeq ($(LOCAL),1)
	@command -v docker >/dev/null || { echo "make image LOCAL=1 needs docker with buildx (or drop LOCAL=1 to build in CodeBuild)" >&2; exit 1; }
	@for pair in TrainingImageRepositoryUri:training_image InferenceImageRepositoryUri:inference_image; do \
	  output=$${pair%%:*}; folder=$${pair#*:}; \
	  repo=$$(aws cloudformation describe-stacks --stack-name $(STACK_NAME) --region $(AWS_REGION) \
	    --query "Stacks[0].Outputs[?OutputKey=='$$output'].OutputValue" --output text) && \
	  { test -n "$$repo" -a "$$repo" != None || { echo "stack $(STACK_NAME) in $(AWS_REGION) has no $$output output: make deploy first" >&2; exit 1; }; } && \
	  aws ecr get-login-password --region $(AWS_REGION) | docker login --username AWS --password-stdin "$${repo%%/*}" && \
	  docker buildx build --platform linux/amd64 --provenance=false --sbom=false \
	    --output "type=image,name=$$repo:$(IMAGE_TAG),push=true,oci-mediatypes=false" \
	    -f $$folder/Dockerfile . && \
	  echo "pushed $$repo:$(IMAGE_TAG)" || exit 1; \
	done
else
	@$(MAKE) --no-print-directory tools
	PYTHONPATH=functions $(SAM_VENV)/bin/python -m yolo_pipeline.cli.image \
	  --stack-name $(STACK_NAME) --region $(AWS_REGION) --tag $(IMAGE_TAG)
endif

clean: ## remove build output and demo runs (keeps the cached venvs)
	rm -rf .aws-sam build dist $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
