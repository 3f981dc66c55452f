//! Config text for an org of any size, as the benchmarks and scale tests use it.

/// `stacks` Deployments stacks of org `bench`, five to a project, every project with
/// the same Contributor role on one resource group of `subscription`: they pack five
/// to an app (4 credentials each, 20 per app), as a real org's stacks would, so 100
/// stacks make 20 apps.
pub fn packed_org(stacks: usize, tenant: &str, subscription: &str) -> String {
    let mut text = format!(
        "org: bench\nazure:\n  tenant: {tenant}\n  subscription: {subscription}\ndeployments:\n"
    );
    for p in 0..stacks.div_ceil(5) {
        let n = (stacks - p * 5).min(5);
        let names: Vec<String> = (0..n).map(|s| format!("s{s}")).collect();
        text.push_str(&format!(
            "  - project: p{p}\n    stacks: [{}]\n    roles:\n      - {{ role: Contributor, scope: /subscriptions/{subscription}/resourceGroups/rg }}\n",
            names.join(", ")
        ));
    }
    text
}
