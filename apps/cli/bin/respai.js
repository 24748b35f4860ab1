#!/usr/bin/env node
// The built entry point (apps/cli/dist, made by the workspace build: `bash scripts/bootstrap`).
import '../dist/cli.js';
