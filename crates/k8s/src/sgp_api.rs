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
