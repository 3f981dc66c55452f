//! The module's call graph, for `cargo xtask wasm-sizes --keeps=N`: which functions
//! keep the most code in the module. A function "keeps" what would become unreachable
//! without it: its own body and everything only it leads to. One that keeps far more
//! than its own size, and is called from one place, is a library instantiated for one
//! small use, the kind of cut that is worth making. The roots are the exports and the
//! function table (a call through the table cannot be followed, so whatever is in it
//! is kept by the module itself); calls are `call`, `return_call` and `ref.func`.

use crate::Result;
use wasmparser::{ElementItems, ExternalKind, Operator, Parser, Payload};

pub(crate) struct Graph {
    /// Functions imported before the module's own: call targets below it have no body.
    imported: u32,
    /// Each defined function's body size, by its index minus `imported`.
    sizes: Vec<usize>,
    /// Each defined function's callees (module-wide indices).
    calls: Vec<Vec<u32>>,
    roots: Vec<u32>,
}

impl Graph {
    pub(crate) fn read(bytes: &[u8]) -> Result<Self> {
        let mut graph = Graph {
            imported: 0,
            sizes: Vec::new(),
            calls: Vec::new(),
            roots: Vec::new(),
        };
        let wasm = |e: wasmparser::BinaryReaderError| format!("wasm: {e}");
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(wasm)? {
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        if matches!(import.map_err(wasm)?.ty, wasmparser::TypeRef::Func(_)) {
                            graph.imported += 1;
                        }
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(wasm)?;
                        if export.kind == ExternalKind::Func {
                            graph.roots.push(export.index);
                        }
                    }
                }
                Payload::StartSection { func, .. } => graph.roots.push(func),
                Payload::ElementSection(reader) => {
                    for element in reader {
                        match element.map_err(wasm)?.items {
                            ElementItems::Functions(funcs) => {
                                for f in funcs {
                                    graph.roots.push(f.map_err(wasm)?);
                                }
                            }
                            ElementItems::Expressions(_, exprs) => {
                                for expr in exprs {
                                    let mut ops = expr.map_err(wasm)?.get_operators_reader();
                                    while !ops.eof() {
                                        if let Operator::RefFunc { function_index } =
                                            ops.read().map_err(wasm)?
                                        {
                                            graph.roots.push(function_index);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    graph.sizes.push(body.range().len());
                    let mut callees = Vec::new();
                    let mut ops = body.get_operators_reader().map_err(wasm)?;
                    while !ops.eof() {
                        match ops.read().map_err(wasm)? {
                            Operator::Call { function_index }
                            | Operator::ReturnCall { function_index }
                            | Operator::RefFunc { function_index } => callees.push(function_index),
                            _ => {}
                        }
                    }
                    callees.sort_unstable();
                    callees.dedup();
                    graph.calls.push(callees);
                }
                _ => {}
            }
        }
        Ok(graph)
    }

    /// `f`'s place among the module's own functions, none for an import.
    pub(crate) fn defined(&self, f: u32) -> Option<usize> {
        f.checked_sub(self.imported).map(|i| i as usize)
    }

    fn size(&self, f: u32) -> usize {
        f.checked_sub(self.imported)
            .and_then(|i| self.sizes.get(i as usize))
            .copied()
            .unwrap_or(0)
    }

    fn callees(&self, f: u32) -> &[u32] {
        f.checked_sub(self.imported)
            .and_then(|i| self.calls.get(i as usize))
            .map_or(&[], Vec::as_slice)
    }

    /// The bytes of code reachable from the roots without passing through `without`.
    fn reachable_size(&self, without: Option<u32>) -> usize {
        let total = self.imported as usize + self.sizes.len();
        let mut seen = vec![false; total];
        let mut stack: Vec<u32> = Vec::new();
        let mut size = 0;
        for &r in &self.roots {
            stack.push(r);
        }
        while let Some(f) = stack.pop() {
            let Some(slot) = seen.get_mut(f as usize) else {
                continue;
            };
            if *slot || Some(f) == without {
                continue;
            }
            *slot = true;
            size += self.size(f);
            stack.extend_from_slice(self.callees(f));
        }
        size
    }

    /// Every function that is not a root, with what it keeps (see the module's
    /// documentation) and its callers, largest first.
    pub(crate) fn keeps(&self) -> Vec<Kept> {
        let all = self.reachable_size(None);
        let mut callers: Vec<Vec<u32>> =
            vec![Vec::new(); self.imported as usize + self.sizes.len()];
        for (i, callees) in self.calls.iter().enumerate() {
            let caller = self.imported + i as u32;
            for &c in callees {
                if let Some(list) = callers.get_mut(c as usize) {
                    list.push(caller);
                }
            }
        }
        let mut kept: Vec<Kept> = (self.imported..self.imported + self.sizes.len() as u32)
            .filter(|f| !self.roots.contains(f))
            .map(|f| Kept {
                function: f,
                own: self.size(f),
                keeps: all - self.reachable_size(Some(f)),
                callers: std::mem::take(&mut callers[f as usize]),
            })
            .filter(|k| k.keeps > 0)
            .collect();
        kept.sort_by_key(|k| std::cmp::Reverse(k.keeps));
        kept
    }
}

pub(crate) struct Kept {
    pub(crate) function: u32,
    pub(crate) own: usize,
    pub(crate) keeps: usize,
    pub(crate) callers: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// export → a → {b, c}; d → c; d is in the table. Without a, b goes with it; c
    /// stays for d, so c keeps only itself.
    #[test]
    fn a_function_keeps_what_only_it_reaches() {
        let g = Graph {
            imported: 1,
            sizes: vec![10, 20, 30, 40, 50],
            // 1 = export, 2 = a, 3 = b, 4 = c, 5 = d
            calls: vec![vec![2], vec![3, 4, 0], vec![], vec![], vec![4]],
            roots: vec![1, 5],
        };
        let kept: Vec<(u32, usize)> = g.keeps().iter().map(|k| (k.function, k.keeps)).collect();
        assert_eq!(kept, [(2, 50), (4, 40), (3, 30)]);
    }
}
