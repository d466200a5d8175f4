namespace Spherelet.IntegrationTests.Containers;

/// <summary>A <see cref="ContainerPod"/> whose pod runs on the libvirt backend (the "libvirt" handler every daemon has), whatever the default handler's backend.</summary>
public sealed class LibvirtContainerPod : ContainerPod
{
    protected override string RuntimeHandler => "libvirt";
}
