namespace Spherelet.IntegrationTests.Containers;

/// <summary>A <see cref="ContainerPod"/> whose pod runs on the microvm backend (a runtime handler of its own), whatever the default handler's backend.</summary>
public sealed class MicrovmContainerPod : ContainerPod
{
    protected override string RuntimeHandler => "micro";

    protected override void Configure(Dictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        environment["SPHERELET__RUNTIMEHANDLERS__micro__VMM"] = "microvm";
    }
}
