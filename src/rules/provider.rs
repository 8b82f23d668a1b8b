//! Who issues a secret: the `provider` of a rule. What patrol does with a finding beyond
//! reporting it hangs on this value (organisation lookup, `--verify`, the SARIF level, the
//! revoke advice), so a rule file may only name one of the providers listed here, and a
//! misspelt one stops the load instead of quietly turning those off.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The issuer of the secrets a rule finds, as a rule file names it (`provider = "…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Provider {
    /// `azure-devops`: personal access tokens. Their findings get an organisation, are checked
    /// by `--verify`, are SARIF errors and get the revoke advice.
    AzureDevops,
    /// `azure`: a key of an Azure service not named more precisely.
    Azure,
    AzureApiManagement,
    AzureAppConfiguration,
    AzureBatch,
    AzureCacheRedis,
    AzureCognitiveServices,
    AzureCommunicationServices,
    AzureContainerRegistry,
    AzureCosmosDb,
    AzureEventGrid,
    AzureEventHubs,
    AzureFluidRelay,
    AzureFunctions,
    AzureIot,
    AzureMaps,
    AzureMixedReality,
    AzureMlClassic,
    AzureRelay,
    AzureSearch,
    AzureServiceBus,
    AzureSql,
    AzureStorage,
    Github,
    Npm,
    /// `generic`: anything else (passwords in URLs, HTTP Basic headers); the default.
    #[default]
    Generic,
    /// `unknown`: a finding `patrol merge` read from a report whose rule this patrol does not
    /// have. Never accepted in a rule file.
    Unknown,
}

impl Provider {
    /// Every provider a rule file may name, in the order error messages list them.
    pub const IN_RULE_FILES: [Provider; 26] = [
        Provider::Generic,
        Provider::AzureDevops,
        Provider::Github,
        Provider::Npm,
        Provider::Azure,
        Provider::AzureApiManagement,
        Provider::AzureAppConfiguration,
        Provider::AzureBatch,
        Provider::AzureCacheRedis,
        Provider::AzureCognitiveServices,
        Provider::AzureCommunicationServices,
        Provider::AzureContainerRegistry,
        Provider::AzureCosmosDb,
        Provider::AzureEventGrid,
        Provider::AzureEventHubs,
        Provider::AzureFluidRelay,
        Provider::AzureFunctions,
        Provider::AzureIot,
        Provider::AzureMaps,
        Provider::AzureMixedReality,
        Provider::AzureMlClassic,
        Provider::AzureRelay,
        Provider::AzureSearch,
        Provider::AzureServiceBus,
        Provider::AzureSql,
        Provider::AzureStorage,
    ];

    /// The name rule files and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::AzureDevops => "azure-devops",
            Provider::Azure => "azure",
            Provider::AzureApiManagement => "azure-api-management",
            Provider::AzureAppConfiguration => "azure-app-configuration",
            Provider::AzureBatch => "azure-batch",
            Provider::AzureCacheRedis => "azure-cache-redis",
            Provider::AzureCognitiveServices => "azure-cognitive-services",
            Provider::AzureCommunicationServices => "azure-communication-services",
            Provider::AzureContainerRegistry => "azure-container-registry",
            Provider::AzureCosmosDb => "azure-cosmos-db",
            Provider::AzureEventGrid => "azure-event-grid",
            Provider::AzureEventHubs => "azure-event-hubs",
            Provider::AzureFluidRelay => "azure-fluid-relay",
            Provider::AzureFunctions => "azure-functions",
            Provider::AzureIot => "azure-iot",
            Provider::AzureMaps => "azure-maps",
            Provider::AzureMixedReality => "azure-mixed-reality",
            Provider::AzureMlClassic => "azure-ml-classic",
            Provider::AzureRelay => "azure-relay",
            Provider::AzureSearch => "azure-search",
            Provider::AzureServiceBus => "azure-service-bus",
            Provider::AzureSql => "azure-sql",
            Provider::AzureStorage => "azure-storage",
            Provider::Github => "github",
            Provider::Npm => "npm",
            Provider::Generic => "generic",
            Provider::Unknown => "unknown",
        }
    }

    /// The provider a rule file names `name`, if it is one.
    pub fn from_rule_file(name: &str) -> Option<Provider> {
        Provider::IN_RULE_FILES
            .into_iter()
            .find(|p| p.as_str() == name)
    }

    /// A key of one named Azure service (not Azure DevOps, not the bare `azure`).
    pub fn is_azure_service(self) -> bool {
        !matches!(self, Provider::AzureDevops | Provider::Azure)
            && self.as_str().starts_with("azure-")
    }

    /// The accepted names, for error messages.
    pub fn accepted() -> String {
        let names: Vec<&str> = Provider::IN_RULE_FILES.iter().map(|p| p.as_str()).collect();
        names.join(", ")
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Provider {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Provider {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        // Not quoted: `parse_rules` names the rule, and the value may be anything.
        Provider::from_rule_file(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown provider, expected one of {}",
                Provider::accepted()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_its_provider() {
        let mut seen = std::collections::BTreeSet::new();
        for p in Provider::IN_RULE_FILES {
            assert!(seen.insert(p.as_str()), "{p} listed twice");
            assert_eq!(Provider::from_rule_file(p.as_str()), Some(p));
        }
        assert_eq!(Provider::from_rule_file("unknown"), None);
        assert_eq!(Provider::from_rule_file("azure-devop"), None);
        assert_eq!(Provider::from_rule_file("Azure-DevOps"), None);
    }

    #[test]
    fn azure_services_are_the_azure_names_but_devops_and_azure() {
        let services: Vec<&str> = Provider::IN_RULE_FILES
            .into_iter()
            .filter(|p| p.is_azure_service())
            .map(Provider::as_str)
            .collect();
        assert_eq!(services.len(), 21);
        assert!(!services.contains(&"azure-devops") && !services.contains(&"azure"));
    }

    fn rule(id: &str, provider: &str) -> String {
        format!(
            "[[rules]]\nid = \"{id}\"\nname = \"n\"\ndescription = \"d\"\n{provider}\
             keywords = [\"aaaa\"]\npattern = 'aaaa'\nseverity = \"low\"\nconfidence = \"low\"\n"
        )
    }

    #[test]
    fn a_rule_file_names_the_rule_whose_provider_is_unknown() {
        let parse = crate::rules::parse_rules;
        let ok = parse("f.toml", &rule("a", "")).unwrap();
        assert_eq!(ok[0].provider, Provider::Generic, "the default");
        let ok = parse("f.toml", &rule("a", "provider = \"azure-storage\"\n")).unwrap();
        assert_eq!(ok[0].provider, Provider::AzureStorage);
        for (bad, shown) in [
            ("npn", " 'npn'"),
            ("unknown", " 'unknown'"),
            // Not a name: never printed, it may be a pasted token.
            (&*"a".repeat(52), ""),
            ("Azure-DevOps", ""),
        ] {
            let text = rule("a", "") + &rule("b", &format!("provider = \"{bad}\"\n"));
            let err = parse("f.toml", &text).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!(
                    "rule 2 ('b') in f.toml: unknown provider{shown}; expected one of generic, "
                )),
                "{err}"
            );
            assert!(shown.is_empty() != err.contains(bad), "{err}");
        }
    }
}
