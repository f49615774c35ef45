// Expected package sets of the real yarn.lock fixtures, computed with yarn's
// own parsers: @yarnpkg/lockfile (yarn classic, v1) and @yarnpkg/parsers'
// parseSyml (yarn berry). Writes <fixture>.expected.json next to each
// fixture in crates/palisade-lockfile/tests/fixtures/real/yarn/.
//
// The set is every third-party "name@version":
// - classic: one per key; the name is the key's name, or the target of an
//   `npm:` alias (`foo@npm:bar@^1` → bar); the version is the entry's `version`.
// - berry: one per entry except `__metadata` and `workspace:` resolutions
//   (the root and workspace members); the name comes from `resolution`
//   (so aliases give the real name and `patch:` the patched package), the
//   version from `version`.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const lockfile = require('@yarnpkg/lockfile');
const { parseSyml } = require('@yarnpkg/parsers');
const here = dirname(fileURLToPath(import.meta.url));
// An optional argument points at another directory of `<name>.<v1|berry-vN>.lock` files.
const fixtures = process.argv[2] ?? join(here, '../../crates/palisade-lockfile/tests/fixtures/real/yarn');
const generator = (pkg) => `${pkg}@${require(`${pkg}/package.json`).version}`;

// `name@range` split at the `@` after the (possibly scoped) name.
function splitDescriptor(descriptor) {
  const at = descriptor.indexOf('@', descriptor.startsWith('@') ? 1 : 0);
  if (at <= 0) throw new Error(`not a descriptor: ${descriptor}`);
  return [descriptor.slice(0, at), descriptor.slice(at + 1)];
}

function classic(text) {
  const parsed = lockfile.parse(text);
  if (parsed.type !== 'success') throw new Error(`@yarnpkg/lockfile: ${parsed.type}`);
  const packages = new Set();
  for (const [key, entry] of Object.entries(parsed.object)) {
    let [name, range] = splitDescriptor(key);
    if (range.startsWith('npm:')) {
      const target = range.slice(4);
      if (target.indexOf('@', target.startsWith('@') ? 1 : 0) > 0) name = splitDescriptor(target)[0];
    }
    packages.add(`${name}@${entry.version}`);
  }
  return { generator: generator('@yarnpkg/lockfile'), packages };
}

function berry(text) {
  const parsed = parseSyml(text);
  const packages = new Set();
  for (const [key, entry] of Object.entries(parsed)) {
    if (key === '__metadata') continue;
    const [name, reference] = splitDescriptor(entry.resolution);
    if (reference.startsWith('workspace:')) continue;
    packages.add(`${name}@${entry.version}`);
  }
  return { generator: generator('@yarnpkg/parsers'), packages };
}

for (const file of readdirSync(fixtures).sort()) {
  if (!file.endsWith('.lock')) continue;
  const text = readFileSync(join(fixtures, file), 'utf8');
  const result = /\.v1\.lock$/.test(file) ? classic(text) : berry(text);
  const packages = [...result.packages].sort();
  const out = join(fixtures, file.replace(/\.lock$/, '.expected.json'));
  writeFileSync(out, JSON.stringify({ generator: result.generator, packages }, null, 2) + '\n');
  console.error(`${file}: ${packages.length} packages`);
}
