// Expected package sets of the real npm lockfile fixtures, computed by npm's
// own lockfile reader, @npmcli/arborist (`loadVirtual`, what `npm ci` and
// `npm ls` use). Writes <fixture>.expected.json next to each
// crates/palisade-lockfile/tests/fixtures/real/npm/<project>.<lockfileVersion>.json.
//
// A package is every node of arborist's virtual tree except:
//   - the root project,
//   - link nodes (symlinks; their targets are nodes of their own),
//   - workspace members: the lockfile entries the root's `workspaces` globs
//     select, computed with the same mapWorkspaces.virtual arborist uses for
//     lockfile-only trees.
// Each is "<package name>@<version>": the real name for aliases
// (node.packageName) and node.version, which is empty when the lockfile
// records no version (v1 git and directory dependencies).
//
// Only the lockfile is copied into an empty temporary directory: with no
// package.json there, arborist takes the root from the lockfile's own root
// entry, and link targets read no package.json from disk, so the result
// depends on the lockfile alone.
import { createRequire } from 'node:module'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, 'package.json'))
const Arborist = require('@npmcli/arborist')
const arboristRequire = createRequire(require.resolve('@npmcli/arborist'))
const mapWorkspaces = arboristRequire('@npmcli/map-workspaces')
const arboristVersion = require('@npmcli/arborist/package.json').version

const fixtures = path.resolve(here, '../../crates/palisade-lockfile/tests/fixtures/real/npm')
const lockfilePattern = /\.\d+\.json$/

for (const file of fs.readdirSync(fixtures).sort()) {
  if (!lockfilePattern.test(file) || file.endsWith('.expected.json')) continue
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'palisade-npm-'))
  try {
    fs.copyFileSync(path.join(fixtures, file), path.join(dir, 'package-lock.json'))
    const tree = await new Arborist({ path: dir }).loadVirtual()
    const workspacePaths = new Set()
    for (const paths of mapWorkspaces.virtual({ cwd: dir, lockfile: tree.meta.data }).values()) {
      workspacePaths.add(paths)
    }
    const packages = new Set()
    for (const node of tree.inventory.values()) {
      if (node.isProjectRoot || node.isRoot || node.isLink) continue
      if (workspacePaths.has(node.path)) continue
      packages.add(`${node.packageName}@${node.version}`)
    }
    const expected = {
      generator: `@npmcli/arborist@${arboristVersion}`,
      packages: [...packages].sort(),
    }
    const out = path.join(fixtures, file.replace(/\.json$/, '.expected.json'))
    fs.writeFileSync(out, JSON.stringify(expected, null, 2) + '\n')
    console.error(`${file}: ${expected.packages.length} packages`)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
