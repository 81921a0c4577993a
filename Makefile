# Stable entry points; the work lives in CMake and deploy/local/ scripts.
.PHONY: build test test-deploy demo bench fuzz test-valgrind clean

build:
	@deploy/local/deps.sh
	cmake -S . -B build >/dev/null
	cmake --build build -j $$(nproc)
	@echo "built build/hret"

test:
	deploy/local/test.sh

test-deploy:
	deploy/local/test_deploy.sh

demo:
	deploy/local/demo.sh

bench:
	tests/bench/run.sh

fuzz:
	tests/fuzz/run.sh

test-valgrind:
	deploy/local/test_valgrind.sh

clean:
	rm -rf build build-asan
