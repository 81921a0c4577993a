# Stable entry points; the work lives in CMake and deploy/local/ scripts.
.PHONY: build test demo bench clean

build:
	@deploy/local/deps.sh
	cmake -S . -B build >/dev/null
	cmake --build build -j $$(nproc)
	@echo "built build/hret"

test:
	deploy/local/test.sh

demo:
	@echo "make demo: not built yet. It will start PostgreSQL, Kafka, MLflow and fake-llm, run a" >&2
	@echo "KMMLU-format evaluation of two models through the worker fleet and print the results." >&2
	@echo "Until then try: make build && build/hret --help" >&2
	@exit 2

bench:
	tests/bench/run.sh

clean:
	rm -rf build build-asan
