// Expected package set of every real pnpm-lock.yaml fixture, computed with
// pnpm's own libraries:
//   - lockfileVersion 9.x: @pnpm/lockfile.fs (pnpm 10's reader; it merges
//     `packages` and `snapshots` into one map keyed by depPath) and
//     @pnpm/lockfile.utils' nameVerFromPkgSnapshot;
//   - lockfileVersion 5.x and 6.x: pnpm 8's @pnpm/lockfile-file (which reads
//     both, rewriting 6.x keys into the 5.x form) and @pnpm/lockfile-utils 8
//     (installed separately under ./pnpm8: its @pnpm/logger peer conflicts
//     with @pnpm/lockfile.fs 1001).
// A package is every depPath of the lockfile (pnpm installs each one), named
// name@version as nameVerFromPkgSnapshot derives it; when that gives no
// semver version (git, tarball and file: packages without a `version`), the
// version is the raw text after the `@` (`nonSemverVersion`).
//
// pnpm 11+ may write two YAML documents: an "env" document (pnpm itself and
// config dependencies) and the project lockfile. @pnpm/lockfile.fs reads
// only the last, and so the expected package set is that document's. Palisade
// lists the env document's packages separately (`tooling`), not in `packages`.
//
// Writes <fixture without .yaml>.expected.json: {"generator", "packages": [sorted unique]}.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const fixtures = path.resolve(here, '../../crates/palisade-lockfile/tests/fixtures/real/pnpm')

const pnpm8Dir = path.join(here, 'pnpm8')
if (!fs.existsSync(path.join(pnpm8Dir, 'node_modules'))) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: pnpm8Dir, stdio: 'inherit' })
}
const pnpm8Require = createRequire(path.join(pnpm8Dir, 'package.json'))

const lockfileFs = require('@pnpm/lockfile.fs')
const lockfileUtils = require('@pnpm/lockfile.utils')
const yaml = require('js-yaml') // @zkochan/js-yaml, the fork @pnpm/lockfile.fs parses with
const lockfileFile8 = pnpm8Require('@pnpm/lockfile-file')
const lockfileUtils8 = pnpm8Require('@pnpm/lockfile-utils')

const version = (dir, name) => JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')).version

function addV9 (set, lockfile, warnings) {
  for (const [depPath, snapshot] of Object.entries(lockfile.packages ?? {})) {
    const { name, version, nonSemverVersion } = lockfileUtils.nameVerFromPkgSnapshot(depPath, snapshot)
    const resolvedVersion = version ?? nonSemverVersion
    if (!name || !resolvedVersion) {
      warnings.push(depPath)
      continue
    }
    set.add(`${name}@${resolvedVersion}`)
  }
}

async function expectedFor (file) {
  const text = fs.readFileSync(file, 'utf8')
  const documents = yaml.loadAll(text).filter((document) => document != null)
  const last = documents[documents.length - 1]
  const major = parseInt(String(last?.lockfileVersion ?? ''), 10)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-pnpm-'))
  fs.writeFileSync(path.join(dir, 'pnpm-lock.yaml'), text)
  const set = new Set()
  const warnings = []
  let generator
  try {
    if (major >= 9) {
      generator = `@pnpm/lockfile.fs@${version(here, '@pnpm/lockfile.fs')}`
      const lockfile = await lockfileFs.readWantedLockfile(dir, { ignoreIncompatible: false })
      addV9(set, lockfile, warnings)
    } else if (major === 5 || major === 6) {
      generator = `@pnpm/lockfile-file@${version(pnpm8Dir, '@pnpm/lockfile-file')}`
      const lockfile = await lockfileFile8.readWantedLockfile(dir, { ignoreIncompatible: false })
      for (const [depPath, snapshot] of Object.entries(lockfile.packages ?? {})) {
        const { name, version } = lockfileUtils8.nameVerFromPkgSnapshot(depPath, snapshot)
        if (!name || !version) {
          warnings.push(depPath)
          continue
        }
        set.add(`${name}@${version}`)
      }
    } else {
      throw new Error(`${file}: unsupported lockfileVersion ${last?.lockfileVersion}`)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  if (warnings.length > 0) {
    console.error(`${path.basename(file)}: ${warnings.length} entries without name/version: ${warnings.slice(0, 5).join(', ')}`)
  }
  return { generator, packages: [...set].sort() }
}

for (const entry of fs.readdirSync(fixtures).sort()) {
  if (!entry.endsWith('.yaml')) continue
  const file = path.join(fixtures, entry)
  const expected = await expectedFor(file)
  fs.writeFileSync(file.replace(/\.yaml$/, ".expected.json"), JSON.stringify(expected, null, 2) + '\n')
  console.error(`${entry}: ${expected.packages.length} packages (${expected.generator})`)
}
