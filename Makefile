# supportmesh: `make run` to try it, `make test` for the whole suite. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= uv
PY := .venv/bin/python
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help sync protos proto-check asyncapi asyncapi-check train up run down status logs test test-unit test-integration \
        test-e2e lint eval chaos toxiproxy bench bench-hops bench-trace bench-commerce promtool check-alerts certs kibana-objects publish tail clean \
        k8s-check

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

sync: ## install uv if missing and the locked Python workspace into .venv
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet --user uv || pip install --quiet uv
	@$(UV) sync --locked --quiet

protos: sync ## regenerate libs/protos from protos/
	@$(PY) scripts/gen_protos.py && echo "protos generated"

proto-check: sync ## fail if libs/protos drifted from protos/
	@tmp=$$(mktemp -d) && $(PY) scripts/gen_protos.py $$tmp && \
	  diff -r -q -x __pycache__ $$tmp libs/protos/src >/dev/null || \
	  { echo "generated code differs from protos/: run 'make protos'"; rm -rf $$tmp; exit 1; }; rm -rf $$tmp; echo "protos up to date"

asyncapi: sync ## regenerate docs/asyncapi.yaml from the services' faststream declarations
	@$(PY) scripts/asyncapi.py

asyncapi-check: sync ## fail if docs/asyncapi.yaml drifted from the declarations (also a unit test, so make test fails)
	@$(PY) scripts/asyncapi.py --check

train: sync ## train the intent classifier (deterministic) into artifacts/
	@$(PY) -m intent_classifier train

artifacts/intent-classifier/model.pkl:
	@$(MAKE) --no-print-directory train

up: sync artifacts/intent-classifier/model.pkl ## start Kafka, Elasticsearch and every service in the background; returns when all are ready
	@deploy/infra.sh start all
	@deploy/mesh.sh start

run: up ## like up, then print how to publish tickets and watch the outcomes
	@echo
	@echo "supportmesh is running. Kafka: $${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}  Elasticsearch: $${ELASTICSEARCH_URL:-http://127.0.0.1:9200}"
	@echo "  publish a ticket (JSON) onto tickets.inbound:"
	@echo "    .venv/bin/supportmesh publish --body 'Where is my order #W2378156?' --email yusuf.rossi7301@example.com"
	@echo "  watch answers, handoffs and dead letters:   .venv/bin/supportmesh tail"
	@echo "  a ticket's hops:  curl 'http://127.0.0.1:9200/supportmesh-hops-*/_search?q=ticket.id:<id>&pretty'"
	@echo "  stop everything:  make down"

down: ## stop every service, then Kafka and Elasticsearch
	@[ -x $(PY) ] && deploy/mesh.sh stop || true
	@deploy/infra.sh stop all

status: ## what is running
	@deploy/infra.sh status; [ -x $(PY) ] && deploy/mesh.sh status || true

logs: ## follow every service's log
	@deploy/mesh.sh logs

test: sync artifacts/intent-classifier/model.pkl ## the whole suite: unit, integration and end-to-end, on real Kafka and Elasticsearch
	@deploy/infra.sh start all
	@$(PY) -m pytest $(PYTEST_ARGS)

test-unit: sync ## unit tests only (no servers)
	@$(PY) -m pytest -m unit $(PYTEST_ARGS)

test-integration: sync artifacts/intent-classifier/model.pkl ## integration tests only, on the real Kafka and Elasticsearch (started if needed)
	@deploy/infra.sh start all
	@$(PY) -m pytest -m integration $(PYTEST_ARGS)

test-e2e: sync artifacts/intent-classifier/model.pkl ## end-to-end tests only: the whole mesh on the real Kafka and Elasticsearch
	@deploy/infra.sh start all
	@$(PY) -m pytest -m e2e $(PYTEST_ARGS)

lint: sync ## ruff over everything we wrote
	@$(UV) run --quiet ruff check .

bench: up ## publish tickets through the running mesh and print throughput, latency and memory
	@$(PY) scripts/bench.py $(BENCH_ARGS)

bench-hops: up ## N tickets through the mesh: hops expected vs found in Elasticsearch (zero lost), indexing lag
	@$(PY) scripts/bench_hops.py $(BENCH_ARGS)

bench-trace: sync ## load 1M hop documents (real template, bench prefix) and measure trace lookups by ticket id
	@deploy/infra.sh start es
	@$(PY) scripts/bench_trace_lookup.py $(BENCH_ARGS)

chaos: sync artifacts/intent-classifier/model.pkl ## fault scenarios on the running mesh (latency, kill -9, broker and ES restarts, Toxiproxy, hostile input); prints the chaos report and writes .infra/chaos/report.json
	@deploy/infra.sh start all
	@$(PY) -m pytest -m chaos tests/chaos -p no:cacheprovider $(PYTEST_ARGS)

toxiproxy: ## build Toxiproxy (pinned) into .infra/bin, for the network-fault chaos test
	@deploy/install_toxiproxy.sh >/dev/null && echo ".infra/bin/toxiproxy-server ready"

promtool: ## build promtool (pinned) into .infra/bin, for the alert-rule tests
	@scripts/install_promtool.sh >/dev/null && echo ".infra/bin/promtool ready"

check-alerts: promtool ## promtool: check deploy/prometheus rules and config, run the alert unit tests
	@cd deploy/prometheus && ../../.infra/bin/promtool check rules alerts.yml && \
	  ../../.infra/bin/promtool check config prometheus.yml && ../../.infra/bin/promtool test rules alerts.test.yml

k8s-check: sync ## render every deploy/k8s overlay with kustomize and validate it with kubeconform -strict (tools and schemas built once)
	@$(PY) scripts/k8s_schemas.py --check

certs: ## a local CA with server and client certificates in .infra/certs, for the TLS settings (docs/security.md)
	@deploy/certs.sh

kibana-objects: sync ## regenerate deploy/kibana/saved_objects.ndjson
	@$(PY) deploy/kibana/generate.py

bench-commerce: sync ## benchmark the commerce gRPC service alone: lookups/s, p50/p99 with N clients (BENCH_ARGS=--clients 50)
	@$(PY) scripts/bench_commerce.py $(BENCH_ARGS)

eval: up ## agent quality: intents, compression, retrieval, resolution and the retail scenarios through the mesh (reseeds and MUTATES the commerce store)
	@$(PY) scripts/eval_intents.py; rc=$$?; $(PY) scripts/eval_compressor.py || rc=1; \
	  $(PY) scripts/eval_retriever.py || rc=1; $(PY) scripts/eval_resolution.py --reset --check || rc=1; \
	  $(PY) scripts/eval_mesh_retail.py --reset || rc=1; exit $$rc

publish: sync ## publish a sample ticket (BODY=... EMAIL=... to override)
	@.venv/bin/supportmesh publish --body "$${BODY:-Hi, where is my order #W2378156? It was due yesterday.}" \
	  --email "$${EMAIL:-yusuf.rossi7301@example.com}"

tail: sync ## print what arrives on tickets.responses, tickets.escalations and tickets.dlq
	@.venv/bin/supportmesh tail

clean: down ## stop everything and delete local state (data, logs, trained model); keeps the download cache
	@deploy/infra.sh reset
	@rm -rf artifacts .infra
