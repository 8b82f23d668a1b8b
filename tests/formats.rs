//! Every token kind patrol validates, made by its own generator (`fake`, written to
//! mirror Microsoft's reference algorithms): generated tokens are found whole under the right
//! rule, and the same tokens with one character changed are not found at all.

use patrol::detect::Matcher;
use patrol::detect::checksum::ChecksumEncoding;
use patrol::fake::{self, FakeRng, KINDS, KeyShape, Recipe};
use patrol::rules::builtin_rules;

const PER_KIND: usize = 60;

/// The shapes a kind comes in: identifiable keys in both lengths and both checksum encodings.
fn shapes(recipe: Recipe) -> Vec<KeyShape> {
    match recipe {
        Recipe::Identifiable(_) => [false, true]
            .into_iter()
            .flat_map(|long| {
                [ChecksumEncoding::Base62, ChecksumEncoding::Base64].map(|encoding| KeyShape {
                    long,
                    encoding,
                    kind: b'9',
                })
            })
            .collect(),
        _ => vec![KeyShape::default()],
    }
}

#[test]
fn generated_tokens_are_found_whole_and_corrupted_ones_are_not() {
    let matcher = Matcher::new(builtin_rules()).unwrap();
    let mut rng = FakeRng::new(2024);
    let mut report = Vec::new();
    for &(kind, recipe, rule_id) in KINDS {
        let (mut found, mut rejected, mut total) = (0, 0, 0);
        for shape in shapes(recipe) {
            for _ in 0..PER_KIND {
                let token = fake::make(&mut rng, recipe, shape);
                total += 1;
                let text = format!("value = \"{token}\";\n");
                let hits = matcher.scan(text.as_bytes());
                let whole = hits.iter().any(|m| {
                    matcher.rule(m.rule).id == rule_id
                        && m.secret == token
                        && m.start == 9
                        && m.end == 9 + token.len()
                });
                assert!(
                    whole,
                    "{kind} {shape:?}: {token} not found whole under {rule_id}"
                );
                found += 1;
                let broken = fake::broken(&token);
                let text = format!("value = \"{broken}\";\n");
                let hits = matcher.scan(text.as_bytes());
                assert!(
                    hits.iter().all(
                        |m| matcher.rule(m.rule).confidence < patrol::rules::Confidence::Medium
                    ),
                    "{kind}: corrupted {broken} reported"
                );
                rejected += 1;
            }
        }
        report.push(format!(
            "{kind:<30} {found}/{total} found, {rejected}/{total} corrupted rejected"
        ));
    }
    println!("{}", report.join("\n"));
}

#[test]
fn derived_and_hashed_identifiable_keys_are_not_reported() {
    let matcher = Matcher::new(builtin_rules()).unwrap();
    let mut rng = FakeRng::new(9);
    for kind in [b'D', b'H'] {
        for &(name, recipe, _) in KINDS {
            let Recipe::Identifiable(sig) = recipe else {
                continue;
            };
            for long in [false, true] {
                let shape = KeyShape {
                    long,
                    encoding: ChecksumEncoding::Base62,
                    kind,
                };
                let key = fake::identifiable_key_shaped(&mut rng, sig, shape);
                assert!(patrol::detect::checksum::cask_key_valid(key.as_bytes()));
                let hits = matcher.scan(format!("key={key}\n").as_bytes());
                assert!(
                    hits.is_empty(),
                    "{name}: JQQJ9{} key reported",
                    kind as char
                );
            }
        }
    }
}
