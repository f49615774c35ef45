//! Reverse edges of an inventory's dependency graph, to explain how a package
//! got in ("root > a@1 > b@2"). Shared by `audit` and the policy checks so the
//! two always show the same paths.

use std::collections::{HashMap, VecDeque};

use crate::{Inventory, PackageId};

/// Reverse edges of the dependency graph. Nodes are indices into the inventory's packages.
pub struct DependencyGraph<'a> {
    inventory: &'a Inventory,
    index: HashMap<(&'a str, &'a str), usize>,
    parents: Vec<Vec<Parent>>,
    has_edges: bool,
}

#[derive(Clone, Copy)]
enum Parent {
    Importer(usize),
    Package(usize),
}

impl<'a> DependencyGraph<'a> {
    pub fn new(inventory: &'a Inventory) -> Self {
        let index: HashMap<(&str, &str), usize> = inventory
            .packages
            .iter()
            .enumerate()
            .map(|(position, p)| ((p.name.as_str(), p.version.as_str()), position))
            .collect();
        let mut parents = vec![Vec::new(); inventory.packages.len()];
        let mut has_edges = false;
        let mut link = |dependency: &PackageId, parent: Parent| {
            if let Some(&child) = index.get(&(dependency.name.as_str(), dependency.version.as_str())) {
                parents[child].push(parent);
                has_edges = true;
            }
        };
        for (position, importer) in inventory.importers.iter().enumerate() {
            for dependency in &importer.dependencies {
                link(dependency, Parent::Importer(position));
            }
        }
        for (position, package) in inventory.packages.iter().enumerate() {
            for dependency in &package.dependencies {
                link(dependency, Parent::Package(position));
            }
        }
        DependencyGraph {
            inventory,
            index,
            parents,
            has_edges,
        }
    }

    fn importer_label(&self, position: usize) -> &str {
        let importer = &self.inventory.importers[position];
        match importer.name.as_deref() {
            Some(name) => name,
            None if importer.path.is_empty() || importer.path == "." => "(root)",
            None => &importer.path,
        }
    }

    /// Up to `limit` shortest paths from an importer to `target`, as `root > a@1 > b@2`.
    pub fn paths_to(&self, target: &PackageId, limit: usize) -> Vec<String> {
        let Some(&start) = self.index.get(&(target.name.as_str(), target.version.as_str())) else {
            return Vec::new();
        };
        if !self.has_edges {
            // Extractors without a graph still give npm-style install paths.
            return self.inventory.packages[start]
                .paths
                .iter()
                .take(limit)
                .map(|path| npm_path_to_chain(path))
                .collect();
        }
        // Breadth-first search upwards; `next[n]` is the hop from n back toward the target.
        let mut next: Vec<Option<usize>> = vec![None; self.parents.len()];
        let mut seen = vec![false; self.parents.len()];
        let mut queue = VecDeque::from([start]);
        seen[start] = true;
        let mut found = Vec::new();
        while let Some(node) = queue.pop_front() {
            for parent in &self.parents[node] {
                match *parent {
                    Parent::Importer(importer) => {
                        if found.len() < limit {
                            let mut chain = vec![self.importer_label(importer).to_string()];
                            let mut cursor = Some(node);
                            while let Some(current) = cursor {
                                chain.push(self.inventory.packages[current].id().to_string());
                                cursor = next[current];
                            }
                            found.push(chain.join(" > "));
                        }
                    }
                    Parent::Package(parent) if !seen[parent] => {
                        seen[parent] = true;
                        next[parent] = Some(node);
                        queue.push_back(parent);
                    }
                    Parent::Package(_) => {}
                }
            }
            if found.len() >= limit {
                break;
            }
        }
        found.sort_by_key(|chain| chain.matches(" > ").count());
        found.dedup();
        found
    }
}

/// `node_modules/a/node_modules/@s/b` → `a > @s/b`.
pub fn npm_path_to_chain(path: &str) -> String {
    path.split("node_modules/")
        .map(|segment| segment.trim_end_matches('/'))
        .filter(|segment| !segment.is_empty())
        .collect::<Vec<_>>()
        .join(" > ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Importer, Package};

    #[test]
    fn npm_install_paths_read_as_chains() {
        assert_eq!(npm_path_to_chain("node_modules/a/node_modules/@s/b"), "a > @s/b");
    }

    #[test]
    fn shortest_path_from_an_importer() {
        let mut inventory = Inventory::new("package-lock.json", "npm-v3");
        let mut a = Package::new("a", "1.0.0");
        a.dependencies.push(PackageId::new("b", "2.0.0"));
        inventory.packages = vec![a, Package::new("b", "2.0.0")];
        inventory.importers.push(Importer {
            path: String::new(),
            name: None,
            dependencies: vec![PackageId::new("a", "1.0.0")],
        });
        let graph = DependencyGraph::new(&inventory);
        assert_eq!(
            graph.paths_to(&PackageId::new("b", "2.0.0"), 5),
            vec!["(root) > a@1.0.0 > b@2.0.0"]
        );
    }
}
