#!/usr/bin/env node
// The package bin: a committed file, so a workspace install can link it before dist/ is built.
import "../dist/main.js"
