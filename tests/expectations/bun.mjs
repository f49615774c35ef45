// Expected package set of every real bun.lock fixture.
//
// bun publishes no lockfile-parsing library. The `bun` npm package does run
// here, and `bun pm ls --all` lists a bun.lock without node_modules, but it is
// not a package inventory: it prints aliased packages under their installed
// name (`string-width-cjs@4.2.3` for `npm:string-width@4.2.3`) and leaves
// out entries no listed package reaches. So the file is parsed with
// `jsonc-parser` (the JSONC parser VS Code uses; bun.lock has trailing commas)
// following the tuple layout of bun's src/install/lockfile/bun.lock.zig:
// every `packages` entry is ["name@resolution", ...]; entries whose
// resolution is `workspace:` or `root:` are the project's own members, not
// packages. The version of a registry package is its semver; of any other
// (git, github, tarball, file, link) the resolution text as bun writes it.
//
// Writes <fixture without .lock>.expected.json: {"generator", "packages"}.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse, printParseErrorCode } from 'jsonc-parser'

const here = path.dirname(fileURLToPath(import.meta.url))
const fixtures = path.resolve(here, '../../crates/palisade-lockfile/tests/fixtures/real/bun')
const parserVersion = JSON.parse(fs.readFileSync(path.join(here, 'node_modules/jsonc-parser/package.json'), 'utf8')).version

for (const entry of fs.readdirSync(fixtures).sort()) {
  if (!entry.endsWith('.lock')) continue
  const file = path.join(fixtures, entry)
  const errors = []
  const lockfile = parse(fs.readFileSync(file, 'utf8'), errors, { allowTrailingComma: true })
  if (errors.length > 0) {
    throw new Error(`${entry}: ${errors.map((error) => `${printParseErrorCode(error.error)} at ${error.offset}`).join(', ')}`)
  }
  if (![0, 1].includes(lockfile.lockfileVersion)) {
    throw new Error(`${entry}: unsupported lockfileVersion ${lockfile.lockfileVersion}`)
  }
  const set = new Set()
  for (const [key, tuple] of Object.entries(lockfile.packages ?? {})) {
    const ident = Array.isArray(tuple) ? tuple[0] : undefined
    const at = typeof ident === 'string' ? ident.indexOf('@', 1) : -1
    if (at <= 0 || at === ident.length - 1) {
      throw new Error(`${entry}: package ${key} has no "name@resolution"`)
    }
    const resolution = ident.slice(at + 1)
    if (resolution.startsWith('workspace:') || resolution.startsWith('root:')) continue
    set.add(ident)
  }
  const expected = { generator: `jsonc-parser@${parserVersion}`, packages: [...set].sort() }
  fs.writeFileSync(file.replace(/\.lock$/, '.expected.json'), JSON.stringify(expected, null, 2) + '\n')
  console.error(`${entry}: ${expected.packages.length} packages (${expected.generator})`)
}
