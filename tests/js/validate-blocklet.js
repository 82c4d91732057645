#!/usr/bin/env node
// Validate a blocklet.yml with the official validator of @blocklet/meta: `parse()` is what the Blocklet CLI
// runs when it bundles (fix-ups, then the Joi schema, with the listed files checked to exist).
// Usage: node validate-blocklet.js DIR. Prints {"meta": validated, "raw": as written} or exits 1 with the error.
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const { parse } = require('@blocklet/meta/lib/parse');
const { fixAndValidateService } = require('@blocklet/meta/lib/validate');

const dir = path.resolve(process.argv[2] || '.');
try {
  const meta = fixAndValidateService(parse(dir, { ensureFiles: true, ensureDist: false }));
  const raw = yaml.load(fs.readFileSync(path.join(dir, 'blocklet.yml'), 'utf8'));
  process.stdout.write(JSON.stringify({ meta, raw }));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
