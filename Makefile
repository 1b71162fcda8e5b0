# Berth. `make help` lists the targets.
SHELL := /bin/bash
NPM   ?= npm
STAMP := node_modules/.install-stamp

.PHONY: help install build run test typecheck bench generate verify-generated clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20

$(STAMP): package.json package-lock.json registry-server/package.json provider/package.json
	$(NPM) ci
	@touch $@

install: $(STAMP) ## Install dependencies (npm ci) when package files changed

build: install ## Build every workspace (tsup)
	$(NPM) run build

run: build ## Serve the registry on 127.0.0.1:5000 with data under ./data
	$(NPM) run start -- --listen 127.0.0.1:5000 --data-dir ./data

typecheck: install ## Type-check everything (tsc, strict)
	$(NPM) run typecheck

test: build typecheck verify-generated ## The whole suite: unit, integration, conformance and end-to-end (AVA)
	$(NPM) test

bench: build ## Benchmarks against the CNCF reference registry (installs docker-registry if missing)
	$(NPM) run bench

generate: install ## Regenerate committed generated code
	$(NPM) run generate

verify-generated: install ## Fail when committed generated code drifts from its source
	$(NPM) run verify-generated

clean: ## Remove build output (keeps ./data)
	rm -rf registry-server/dist provider/dist
