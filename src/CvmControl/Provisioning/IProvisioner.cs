using CvmControl.Validation;

namespace CvmControl.Provisioning;

/// <summary>Writes the env, secret and user_id files of a bootstrap.</summary>
internal interface IProvisioner
{
    void Provision(BootstrapPlan plan);
}
