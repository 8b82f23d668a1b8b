//! Revoke plans and the reach of live tokens, against the mock Azure DevOps on 127.0.0.1:
//! a token reaching two organisations gets both revoke links, its identity and its probes in
//! JSON, SARIF and human output; a dead one gets no reach; every request is a GET within the
//! documented bound; the organisation comes from a git remote, a JSON key or a nearby URL;
//! and no output ever holds a `{organization}` placeholder.

mod support;

use patrol::verify::reach::MAX_REQUESTS;
use serde_json::Value;
use std::collections::HashMap;
use std::process::Output;
use support::findings::texts;
use support::git::Repo;
use support::sarif::assert_schema_valid;
use support::tokens::pats;
use support::verify::{
    ACCOUNT, Behaviour, DESCRIPTOR, DISPLAY_NAME, MockAdo, MockReach, PROFILE_PATH, USER_ID,
    scan_against,
};

static TWO_ORGS: MockReach = MockReach {
    orgs: &["contoso", "fabrikam"],
    readable: &["projects", "git", "builds"],
};

fn text(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

fn assert_clean(out: &Output, secrets: &[&String]) {
    let all = format!("{}{}", text(out), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("{organization}"), "placeholder link:\n{all}");
    for s in secrets {
        assert!(!all.contains(s.as_str()), "a token is in the output");
    }
}

fn findings(out: &Output) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&text(out)).expect("JSON");
    doc["findings"].as_array().unwrap().clone()
}

#[test]
fn a_live_token_reaching_two_organisations_gets_its_reach_and_plan_everywhere() {
    let t = pats(81, 2);
    let (live, dead) = (&t[0], &t[1]);
    let mock = MockAdo::start(HashMap::from([
        (live.clone(), Behaviour::Reaching(&TWO_ORGS)),
        (dead.clone(), Behaviour::Bad),
    ]));
    let dir = tempfile::tempdir().unwrap();
    for (name, tok) in [
        ("a_live.env", live),
        ("b_dead.env", dead),
        ("c_live.env", live),
    ] {
        let line = format!("AZURE_DEVOPS_EXT_PAT={tok} # https://dev.azure.com/contoso/app\n");
        std::fs::write(dir.path().join(name), line).unwrap();
    }

    // JSON: identity, both organisations, probes, the plan as data.
    let out = scan_against(dir.path(), &mock.base, &["--verify", "--format", "json"]);
    assert_clean(&out, &[live, dead]);
    let fs = findings(&out);
    assert_eq!(fs.len(), 3);
    let v = &fs[0]["verification"];
    assert_eq!(v["status"], "valid", "{v}");
    let reach = &v["reach"];
    assert_eq!(reach["identity"]["display_name"], DISPLAY_NAME);
    assert_eq!(reach["identity"]["email"], ACCOUNT);
    assert_eq!(reach["identity"]["id"], USER_ID);
    assert_eq!(reach["identity"]["descriptor"], DESCRIPTOR);
    let orgs = reach["organizations"].as_array().unwrap();
    assert_eq!(orgs.len(), 2, "{reach}");
    assert_eq!(orgs[0]["name"], "contoso");
    let probes = &orgs[0]["probes"];
    for (probe, want) in [
        ("projects", "readable"),
        ("git_repositories", "readable"),
        ("builds", "readable"),
        ("packaging_feeds", "denied"),
        ("variable_groups", "denied"),
    ] {
        assert_eq!(probes[probe], want, "{probe}: {probes}");
    }
    assert_eq!(orgs[1]["name"], "fabrikam");
    assert!(
        orgs[1].get("probes").is_none(),
        "only the home organisation is probed"
    );

    let plan = &fs[0]["revoke"];
    let links: Vec<&str> = texts(&plan["organizations"], "revoke");
    assert_eq!(
        links,
        [
            "https://dev.azure.com/contoso/_usersSettings/tokens",
            "https://dev.azure.com/fabrikam/_usersSettings/tokens"
        ]
    );
    let admin = &plan["admin"];
    let lookup = admin["lookup"].as_str().unwrap();
    assert!(
        lookup.contains(&format!(
            "https://vssps.dev.azure.com/contoso/_apis/tokenadmin/personalaccesstokens/{DESCRIPTOR}?"
        )),
        "{lookup}"
    );
    let revoke = admin["revoke"].as_str().unwrap();
    assert!(revoke.contains("-X POST") && revoke.contains("/_apis/tokenadmin/revocations?"));
    assert!(plan["steps"].as_array().unwrap().len() >= 5);
    assert_eq!(fs[2]["revoke"], fs[0]["revoke"], "one plan per secret");

    // The dead token: invalid, no reach, no admin calls; one request.
    let d = &fs[1];
    assert_eq!(d["verification"]["status"], "invalid");
    assert!(d["verification"].get("reach").is_none());
    assert!(d["revoke"].get("admin").is_none());
    assert_eq!(mock.requests_for(dead).len(), 1);

    // Every request of the live token is a GET, within the documented bound, and counted.
    let sent = mock.requests_for(live);
    assert!(
        sent.len() <= MAX_REQUESTS as usize,
        "{} requests",
        sent.len()
    );
    assert_eq!(reach["requests"], sent.len());
    assert!(sent.iter().all(|r| r.method == "GET"));
    assert!(mock.requests().iter().all(|r| r.method == "GET"));

    // SARIF: reach and the plan's data in the first result's properties, one action line.
    let out = scan_against(dir.path(), &mock.base, &["--verify", "--format", "sarif"]);
    assert_clean(&out, &[live, dead]);
    let sarif = text(&out);
    assert_schema_valid(&sarif);
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    let first = &doc["runs"][0]["results"][0];
    let props = &first["properties"];
    assert_eq!(
        props["verification"]["reach"]["organizations"][1]["name"],
        "fabrikam"
    );
    assert_eq!(
        props["revoke"]["organizations"][1]["revoke"],
        "https://dev.azure.com/fabrikam/_usersSettings/tokens"
    );
    assert!(props["revoke"]["admin"]["lookup"].is_string());
    let message = first["message"]["text"].as_str().unwrap();
    assert_eq!(message.lines().count(), 2, "{message}");
    assert!(message.contains("https://dev.azure.com/contoso/_usersSettings/tokens"));

    // Human: one line per organisation, the plan once per secret.
    let out = scan_against(dir.path(), &mock.base, &["--verify"]);
    assert_clean(&out, &[live, dead]);
    let human = text(&out);
    assert!(
        human.contains(
            "reaches contoso: projects readable, git repositories readable, builds readable, \
             packaging feeds denied, variable groups denied"
        ),
        "{human}"
    );
    assert!(human.contains("reaches fabrikam"), "{human}");
    assert!(human.contains("revoke at https://dev.azure.com/fabrikam/_usersSettings/tokens"));
    assert_eq!(human.matches("admin lookup: ").count(), 1, "{human}");
    assert_eq!(human.matches("reaches contoso").count(), 1, "{human}");
}

#[test]
fn the_organisation_comes_from_a_remote_a_json_key_or_a_nearby_url() {
    let t = pats(91, 4);
    let mock = MockAdo::start(t.iter().map(|k| (k.clone(), Behaviour::Good)).collect());
    let cases: [(&str, &str, String); 4] = [
        (
            "remote",
            "remoteorg",
            format!("AZURE_DEVOPS_EXT_PAT={}\n", t[0]),
        ),
        (
            "key",
            "jsonorg",
            format!(
                "{{\n  \"organization\": \"jsonorg\",\n  \"pat\": \"{}\"\n}}\n",
                t[1]
            ),
        ),
        (
            "url",
            "urlorg",
            format!(
                "# board: https://dev.azure.com/urlorg/app\n\nPAT={}\n",
                t[2]
            ),
        ),
        ("none", "", format!("PAT={}\n", t[3])),
    ];
    for (i, (source, org, content)) in cases.iter().enumerate() {
        // A repository with that remote, or a plain directory.
        let repo = (*source == "remote").then(|| {
            let repo = Repo::new();
            repo.git(&[
                "remote",
                "add",
                "origin",
                "git@ssh.dev.azure.com:v3/remoteorg/app/app",
            ]);
            repo
        });
        let plain = tempfile::tempdir().unwrap();
        let dir = repo.as_ref().map_or(&plain, |r| &r.dir);
        std::fs::write(dir.path().join("settings.json"), content).unwrap();
        let secrets: Vec<&String> = t.iter().collect();
        for format in ["human", "sarif"] {
            let out = scan_against(dir.path(), &mock.base, &["--format", format]);
            assert_clean(&out, &secrets);
        }
        let out = scan_against(dir.path(), &mock.base, &["--verify", "--format", "json"]);
        assert_clean(&out, &secrets);
        let f = &findings(&out)[0];
        let asked: Vec<String> = mock
            .requests_for(&t[i])
            .into_iter()
            .map(|r| r.path)
            .collect();
        if org.is_empty() {
            assert!(f["organization"].is_null(), "{f}");
            assert!(f.get("organization_source").is_none());
            assert_eq!(
                f["revoke"]["find_organizations"],
                "https://aex.dev.azure.com/me"
            );
            assert_eq!(asked[0], PROFILE_PATH);
            continue;
        }
        assert_eq!(f["organization"], *org, "{source}: {f}");
        let want_source = if *source == "remote" {
            "remote"
        } else {
            *source
        };
        // A valid token's organisation is the one that answered.
        assert_eq!(f["organization_source"], "verified", "{source}: {f}");
        assert_eq!(
            asked[0],
            format!("/{org}/_apis/connectionData"),
            "{want_source}"
        );
        assert_eq!(
            f["revoke"]["organizations"][0]["revoke"],
            format!("https://dev.azure.com/{org}/_usersSettings/tokens")
        );
        let plain = scan_against(dir.path(), &mock.base, &["--format", "json"]);
        assert_eq!(findings(&plain)[0]["organization_source"], want_source);
    }
}
