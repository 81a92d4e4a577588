# The two commands of the README: `make demo` (the main job) and `make test`.
SWIFT ?= swift
CUSTOMERS ?= 1000000
FUZZ_SEED ?= 42
FUZZ_COUNT ?= 10000

.PHONY: deps demo test notebook-check fuzz validate validate-check bench bench-scale lint

deps:
	@bash scripts/install-deps.sh

## Build in release and compare the routing policies on the quickstart scenario (installs only what the build links).
demo:
	@bash scripts/install-deps.sh --build-only
	$(SWIFT) build -c release --product infermesh
	.build/release/infermesh run scenarios/quickstart.yaml

## Build and run the whole test suite, then execute the analysis notebook on a tiny export.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@SWIFT=$(SWIFT) bash scripts/check-notebook.sh

## Simulate a tiny scenario, export it and run notebooks-export/analysis.ipynb headless (part of `make test`).
notebook-check: deps
	@SWIFT=$(SWIFT) bash scripts/check-notebook.sh

## Mutate every scenario in scenarios/ (structure and values) into FUZZ_COUNT mutants, validate each and give the
## valid ones a short run, in 2 worker processes; fails on a crash, a hang, a rejection without a location or a
## request without a terminal status, and writes those mutants to results/fuzz-failures/ (docs/fuzzing.md).
fuzz:
	@bash scripts/install-deps.sh --build-only
	$(SWIFT) build -c release --product infermesh-fuzz
	.build/release/infermesh-fuzz run --seed $(FUZZ_SEED) --count $(FUZZ_COUNT) --jobs 2

## Run every published measurement a scenario can express (scenarios/validation/cases.yaml) with the roofline and the
## fitted timing model, in release on 2 threads, and rewrite docs/validation.md: each figure, both predictions, their
## errors and the command behind each row (docs/calibration.md, "Validation against published numbers").
validate:
	@bash scripts/install-deps.sh --build-only
	$(SWIFT) build -c release --product infermesh
	.build/release/infermesh validation-report --out docs/validation.md --jobs 2

## The same, writing nothing: fails if docs/validation.md is not what `make validate` would write (`make test`
## checks only the quick rows).
validate-check:
	@bash scripts/install-deps.sh --build-only
	$(SWIFT) build -c release --product infermesh
	.build/release/infermesh validation-report --out docs/validation.md --jobs 2 --check

## Kernel benchmark side by side with SimPy on the same M/M/8 model (release build).
bench:
	@bash scripts/install-deps.sh --bench
	$(SWIFT) build -c release --product infermesh-bench
	@bash Benchmarks/compare-simpy.sh $(CUSTOMERS)

## The scale benchmark: scenarios/scale-fleet.yaml (1.1M requests, rows stored) and a quarter of it; wall and peak RSS.
bench-scale: deps
	$(SWIFT) build -c release --product infermesh
	@bash Benchmarks/scale-fleet.sh .build/release/infermesh "15m 1h"

## Check formatting against .swift-format (CI runs this too).
lint:
	$(SWIFT) format lint --strict -r Sources Tests Benchmarks/infermesh-bench Package.swift
