//! `patrol fake-token`: fake tokens with valid checksums, for tests and trying a pipeline out.

use super::EXIT_CLEAN;
use crate::cli::FakeTokenArgs;
use crate::detect::checksum::ChecksumEncoding;
use crate::fake;
use anyhow::{Result, bail};

pub fn fake_token(args: FakeTokenArgs) -> Result<i32> {
    if args.list_kinds {
        for (name, _, rule) in fake::KINDS {
            println!("{name:<30} {rule}");
        }
        return Ok(EXIT_CLEAN);
    }
    let recipe = args.kind.recipe();
    if args.kind.any_signature()
        && (args.signature.len() != 4 || !args.signature.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        bail!("--signature takes 4 letters or digits");
    }
    let identifiable = matches!(recipe, fake::Recipe::Identifiable(_));
    if (args.long || args.base64_checksum) && !identifiable {
        bail!("--long and --base64-checksum apply to identifiable (84/88-character) keys only");
    }
    let shape = fake::KeyShape {
        long: args.long,
        encoding: if args.base64_checksum {
            ChecksumEncoding::Base64
        } else {
            ChecksumEncoding::Base62
        },
        kind: b'9',
    };
    let mut rng = fake::FakeRng::new(args.seed);
    for _ in 0..args.count {
        let t = match recipe {
            fake::Recipe::Identifiable(_) if args.kind.any_signature() => {
                fake::identifiable(&mut rng, &args.signature, shape)
            }
            _ => fake::make(&mut rng, recipe, shape),
        };
        println!("{}", if args.broken { fake::broken(&t) } else { t });
    }
    Ok(EXIT_CLEAN)
}
