# BDC Console — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
BUN_DIR   := .tools/bun
BUN       := $(BUN_DIR)/node_modules/.bin/bun
BUN_VERSION := 1.4.4
STAMP     := $(VENV)/.installed

# Reflex on a machine that reaches only the package registries: bun from npm,
# no version check, no telemetry, and the registry npm is configured with.
export PATH := $(CURDIR)/$(BUN_DIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_TELEMETRY_ENABLED := 0
export NPM_CONFIG_REGISTRY ?= $(shell npm config get registry 2>/dev/null)

.PHONY: help run dev test lint format clean install install-run-system install-test-system

help:
	@echo "make run    安装依赖（含打印 PDF 报表的 Chromium）、准备配置库、载入演示数据并启动控制台（http://localhost:3000）"
	@echo "make dev    同上，热重载开发模式"
	@echo "make test   安装测试所需（Chromium、中文字体、PostgreSQL）并运行 ruff 与全部测试"
	@echo "make lint   ruff check + ruff format --check"
	@echo "make clean  删除虚拟环境、工具、前端构建（不删除 data/）"

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

$(BUN):
	npm install --prefix $(BUN_DIR) --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)
	$(BUN) --version

install: $(STAMP) $(BUN)

run: install install-run-system
	$(PY) -m console init
	$(PY) -m console seed-demo
	$(PY) -m console serve

dev: install install-run-system
	$(PY) -m console init
	$(PY) -m console seed-demo
	$(PY) -m console serve --dev

# Chromium and CJK fonts print the report centre's PDFs.
install-run-system:
	bash .ci/system-deps chromium fonts-noto-cjk

install-test-system:
	bash .ci/system-deps

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Two workers (the machine has two cores); the real console's tests share one of them.
test: install install-test-system lint
	BDC_REQUIRE_POSTGRES=1 $(PY) -m pytest -n 2

clean:
	rm -rf $(VENV) .tools .web .states .pytest_cache .ruff_cache
