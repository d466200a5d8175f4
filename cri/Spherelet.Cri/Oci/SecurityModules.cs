using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>
/// AppArmor and SELinux requests. The guest kernel has neither, so a container may ask only for
/// what that already is: no profile, the runtime's default or unconfined AppArmor, and no SELinux
/// label. A named AppArmor profile or an SELinux label is refused rather than silently dropped.
/// </summary>
public static class SecurityModules
{
    /// <exception cref="InvalidRequestException">A profile or label that cannot be applied in the VM.</exception>
    public static void Check(LinuxContainerSecurityContext? security)
    {
        if (security is null)
        {
            return;
        }

        if (security.Apparmor is { ProfileType: SecurityProfile.Types.ProfileType.Localhost } profile)
        {
            throw new InvalidRequestException(
                $"AppArmor profile '{profile.LocalhostRef}' cannot be applied: the pod VM's kernel has no AppArmor (use RuntimeDefault or Unconfined)");
        }

#pragma warning disable CS0612 // the deprecated field is still what older kubelets send
        var legacy = security.ApparmorProfile;
#pragma warning restore CS0612
        if (legacy.Length > 0 && legacy is not ("runtime/default" or "unconfined"))
        {
            throw new InvalidRequestException(
                $"AppArmor profile '{legacy}' cannot be applied: the pod VM's kernel has no AppArmor (use runtime/default or unconfined)");
        }

        if (SandboxMapping.SelinuxLabel(security.SelinuxOptions) is { Length: > 0 } label)
        {
            throw new InvalidRequestException(
                $"SELinux label '{label}' cannot be applied: the pod VM's kernel has no SELinux (remove seLinuxOptions)");
        }
    }
}
