//! Undoing what copying does to an error message before it is read.
//!
//! People paste Entra errors out of terminal boxes (Terraform draws `│ ` before every
//! line and wraps long messages), out of CI logs (a timestamp or `##[error]` before
//! every line, ANSI colour codes), out of rendered pages (the code turned into a
//! link) and several at once. This turns such a paste back into running text, one
//! line per paste line joined by spaces, except where a line break fell inside a
//! quoted value: there the two halves are joined as they were.

use super::scan;

/// The paste as running text.
pub(super) fn unwrap(text: &str) -> String {
    // ANSI escape sequences, and their visible remains when the ESC byte was lost.
    let text = scan::strip_colour_remains(&scan::strip_ansi(text));
    // Bold markers, which a rendered paste can leave anywhere, even inside a word. A
    // longer run of asterisks is a CI log's mask of a secret, and stays.
    let text = scan::strip_bold(&text);
    // A CI log's line-number link lands anywhere, even inside a code or an id
    // (`AADSTS700[21](https://github.com/…)1`): keep its digits alone.
    let text = scan::line_number_links(&text);
    // A link around the code or a URL: keep the text and the address.
    let text = scan::links(&text);
    // A form-encoded description (`AADSTS500011:+The+resource…`) has `+` for spaces.
    let text = if scan::form_encoded(&text) {
        text.replace('+', " ")
    } else {
        text
    };
    let text = scan::strip_anchors(&text);

    let mut out = String::with_capacity(text.len());
    let mut open_quote = false;
    for raw in text.split('\n') {
        let line = strip_line(raw.trim_end_matches('\r'));
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() && !open_quote {
            out.push(' ');
        }
        out.push_str(line);
        open_quote = ends_inside_quote(line, open_quote);
    }
    out
}

/// One line without what the terminal, the CI runner or the log writer put around it.
fn strip_line(line: &str) -> &str {
    let mut line = line;
    loop {
        let before = line;
        line = line.trim();
        // GitHub Actions and Azure Pipelines timestamps, bracketed clock times.
        if let Some(end) = scan::timestamp_prefix(line) {
            line = &line[end..];
        }
        if let Some(end) = scan::clock_prefix(line) {
            line = &line[end..];
        }
        // Runner annotations: `##[error]`, `::error::`, `::error file=…::`.
        if let Some(end) = scan::annotation_prefix(line) {
            line = &line[end..];
        }
        // Box-drawing frames and the `|` some tools use instead.
        line = line
            .trim_start_matches(['│', '┃', '║', '|'])
            .trim_end_matches(['│', '┃', '║']);
        if line == before {
            return line.trim();
        }
    }
}

/// Whether a single-quoted value is still open at the end of `line`. A quote opens
/// after a space, `(`, `:` or `=` (or at the line start) and closes before a space,
/// punctuation or the line end, so the apostrophe in a word like "app's" is neither.
fn ends_inside_quote(line: &str, mut open: bool) -> bool {
    let chars: Vec<char> = line.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c != '\'' {
            continue;
        }
        let before = if i == 0 { None } else { Some(chars[i - 1]) };
        let after = chars.get(i + 1).copied();
        if open {
            if after.is_none_or(|a| a.is_whitespace() || ".,;)]:".contains(a)) {
                open = false;
            }
        } else if before.is_none_or(|b| b.is_whitespace() || "(:=[\"".contains(b)) {
            open = true;
        }
    }
    open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_box_with_a_subject_wrapped_inside_its_quotes() {
        let text = "│ Error: building account: could not acquire access token\n\
                    │ AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://api.pulumi.com/oidc'. Assertion Subject: 'pulumi:deploy:org:contoso:project:co\n\
                    │ re:stack:dev:operation:update:scope:write'. Assertion Audience: 'contoso'.\n\
                    │ \n";
        let out = unwrap(text);
        assert!(
            out.contains(
                "'pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write'"
            ),
            "{out}"
        );
        assert!(out.starts_with("Error: building account"), "{out}");
    }

    #[test]
    fn ci_log_timestamps_annotations_and_colours() {
        let text = "2024-03-01T10:11:12.1234567Z ##[error]\x1b[31mAADSTS700213: No matching federated identity record found for presented assertion subject\x1b[0m\n\
                    2024-03-01T10:11:12.1234568Z 'repo:contoso/infra:ref:refs/heads/main'. Trace ID: 0a1b2c3d-0000-0000-0000-000000000000";
        let out = unwrap(text);
        assert_eq!(
            out,
            "AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:contoso/infra:ref:refs/heads/main'. Trace ID: 0a1b2c3d-0000-0000-0000-000000000000"
        );
    }

    #[test]
    fn links_keep_their_text_and_an_apostrophe_is_not_a_quote() {
        let out = unwrap(
            "[AADSTS700016](https://login.microsoftonline.com/error?code=700016): the app's identifier\nwas not found",
        );
        assert_eq!(
            out,
            "AADSTS700016 https://login.microsoftonline.com/error?code=700016: the app's identifier was not found"
        );
        assert_eq!(
            unwrap("<a href=\"https://x.invalid\">AADSTS90002</a> tenant"),
            "AADSTS90002 tenant"
        );
        // `<yaml>` is part of a subject, not markup.
        assert!(unwrap("subject 'pulumi:environments:org:o:env:<yaml>'").contains("<yaml>"));
    }
}
