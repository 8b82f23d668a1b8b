//! HTTP Basic credentials where they stand in clear: curl and wget command lines, `.netrc`
//! files, URLs inside JSON strings with escaped slashes, and tokens glued to a command-line
//! flag. Exact findings; the templates and placeholders beside them are not reported.

mod support;
use patrol::detect::plausible::{Verdict, judge};
use patrol::fake::FakeRng;
use support::findings::*;
use support::run::*;
use support::tokens::*;

/// A password that passes the plausibility test, made at run time from the project's seeded
/// generator (no credential stands in this file).
fn password(seed: u64) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTVWXYZabcdefghjkmnpqrstvwxyz23456789+!";
    let mut rng = FakeRng::new(seed);
    let pw: String = (0..14)
        .map(|_| CHARS[(rng.next_u64() % CHARS.len() as u64) as usize] as char)
        .collect();
    assert_eq!(
        judge(Some("deploy"), &pw),
        Verdict::Plausible,
        "seed {seed}"
    );
    pw
}

#[test]
fn command_lines_netrc_and_escaped_urls() {
    let dir = tempfile::tempdir().unwrap();
    let pw: Vec<String> = (0..9).map(|i| password(700 + i)).collect();
    let script = format!(
        "#!/bin/sh\n\
         curl -u deploy:{} https://deploy.contoso-ci.net/api\n\
         curl -s --user 'build:{}' https://deploy.contoso-ci.net/api\n\
         curl -ubuild:{} https://deploy.contoso-ci.net/api\n\
         wget --user=deploy --password={} https://deploy.contoso-ci.net/app.tgz\n\
         wget --http-user=deploy --http-password '{}' https://deploy.contoso-ci.net/app.tgz\n\
         sqltool -p{} --server contoso\n\
         sqltool --password={} --server contoso\n\
         sqltool -p={} --server contoso\n\
         curl -u :{} https://dev.azure.com/contoso/_apis/projects\n",
        pw[0],
        pw[1],
        pw[2],
        pw[3],
        pw[4],
        pat(41),
        pat(42),
        pat(43),
        pat(44),
    );
    // Templates and placeholders, each a line a real script or document has.
    let templates = concat!(
        "curl -u \"$USER:$PASS\" https://deploy.contoso-ci.net/api\n",
        "curl -u ${{ secrets.USER }}:${{ secrets.PAT }} https://deploy.contoso-ci.net/api\n",
        "curl -u {{user}}:{{token}} https://deploy.contoso-ci.net/api\n",
        "curl -u user:%s https://deploy.contoso-ci.net/api\n",
        "curl -u '****:****' https://deploy.contoso-ci.net/api\n",
        "curl -u <user>:<password> https://deploy.contoso-ci.net/api\n",
        "wget --password=$PASS https://deploy.contoso-ci.net/app.tgz\n",
        "wget --password=<password> https://deploy.contoso-ci.net/app.tgz\n",
        "wget --password \"${WGET_PASSWORD}\" https://deploy.contoso-ci.net/app.tgz\n",
        "docker login --password-stdin contoso.azurecr.io\n",
        "git push -u origin main:main\n",
    );
    let local = format!(
        "curl -u admin:{} http://localhost:8080/api\n",
        password(720)
    );
    std::fs::write(
        dir.path().join("deploy.sh"),
        format!("{script}{templates}{local}"),
    )
    .unwrap();
    let netrc = format!(
        "machine deploy.contoso-ci.net login deploy password {}\n\
         machine dev.azure.com\n  login build\n  password {}\n\
         machine templates.contoso-ci.net login deploy password $NETRC_PASSWORD\n\
         machine docs.contoso-ci.net login deploy password <password>\n",
        pw[5],
        pat(45),
    );
    std::fs::write(dir.path().join(".netrc"), netrc).unwrap();
    std::fs::write(
        dir.path().join("_netrc"),
        format!(
            "machine files.contoso-ci.net\r\n    login deploy\r\n    password {}\r\n",
            pw[6]
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("settings.json"),
        format!(
            "{{\"registry\":\"https:\\/\\/ci:{}@pkgs.contoso-ci.net\\/simple\\/\",\n\
             \"mirror\":\"https:\\/\\/ci:%24%7BPAT%7D@pkgs.contoso-ci.net\\/simple\\/\"}}\n",
            pw[7]
        ),
    )
    .unwrap();

    // Prose about the options, and PowerShell switches that look like `-u…:…`.
    std::fs::write(
        dir.path().join("NEWS"),
        "--http-passwd has been renamed to --http-password and --proxy-password respectively, and\n\
         Use the --password option.\n\
         New-PSSession -ComputerName $name -useSsl:($machine.UseSsl)\n\
         Invoke-Tool -url:https://deploy.contoso-ci.net/api -verbose\n",
    )
    .unwrap();

    let (doc, out) = patrol_json(&["scan", ".", "--show-secrets"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{doc}");
    let legacy = "azure-devops-pat";
    let curl = "curl-user-credentials";
    let flag = "command-line-password";
    let netrc = "netrc-password";
    assert_eq!(
        triples(&doc),
        vec![
            (".netrc".into(), 1, netrc.into()),
            (".netrc".into(), 4, legacy.into()),
            ("_netrc".into(), 3, netrc.into()),
            ("deploy.sh".into(), 2, curl.into()),
            ("deploy.sh".into(), 3, curl.into()),
            ("deploy.sh".into(), 4, curl.into()),
            ("deploy.sh".into(), 5, flag.into()),
            ("deploy.sh".into(), 6, flag.into()),
            ("deploy.sh".into(), 7, legacy.into()),
            ("deploy.sh".into(), 8, legacy.into()),
            ("deploy.sh".into(), 9, legacy.into()),
            ("deploy.sh".into(), 10, legacy.into()),
            ("settings.json".into(), 1, "url-credentials".into()),
        ]
    );
    let secrets: Vec<&str> = texts(&doc["findings"], "secret");
    let want = [
        pw[5].as_str(),
        &pat(45),
        &pw[6],
        &pw[0],
        &pw[1],
        &pw[2],
        &pw[3],
        &pw[4],
        &pat(41),
        &pat(42),
        &pat(43),
        &pat(44),
        &pw[7],
    ]
    .map(str::to_string);
    assert_eq!(secrets, want);
    // The glued token's column is the token's, after `-p`.
    let glued = &doc["findings"][8];
    assert_eq!(glued["column"], 11, "{glued}");
}

#[test]
fn a_glued_flag_needs_a_dash_and_a_valid_checksum() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lookalikes.txt"),
        format!(
            "name: x{}\nflag: -xyz{}\nbroken: -p{}\n",
            pat(46),
            pat(47),
            patrol::fake::broken(&pat(48))
        ),
    )
    .unwrap();
    let (doc, out) = patrol_json(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{doc}");
}
