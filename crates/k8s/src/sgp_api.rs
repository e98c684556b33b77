//! The two API groups that serve SecurityGroupPolicy.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SgpApi {
    /// `vpcresources.k8s.aws` (EKS).
    Eks,
    /// `vpcresources.tke.cloud.tencent.com` (TKE).
    Tke,
}

impl SgpApi {
    pub const ALL: [SgpApi; 2] = [SgpApi::Eks, SgpApi::Tke];

    pub fn group(self) -> &'static str {
        match self {
            SgpApi::Eks => "vpcresources.k8s.aws",
            SgpApi::Tke => "vpcresources.tke.cloud.tencent.com",
        }
    }
}

impl fmt::Display for SgpApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.group())
    }
}

#[cfg(test)]
mod tests {
    use super::SgpApi;
    use podsg_model::api::SGP_API_VERSIONS;

    #[test]
    fn the_groups_are_those_the_model_reads() {
        let versions: Vec<String> = SgpApi::ALL.iter().map(|a| format!("{}/v1beta1", a.group())).collect();
        assert_eq!(versions, SGP_API_VERSIONS);
    }
}
