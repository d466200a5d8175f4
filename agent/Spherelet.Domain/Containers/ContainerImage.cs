namespace Spherelet.Domain.Containers;

/// <summary>The image a container runs.</summary>
/// <param name="Reference">The image as the request named it.</param>
/// <param name="Id">The image id (its config digest, <c>sha256:HEX</c>).</param>
/// <param name="Ref">The name the image is known by: a repo digest where the image has one, else the id.</param>
/// <param name="LayerDirectories">The unpacked layers as the pod VM sees them, bottom first.</param>
/// <param name="UserSpecified">
/// The image as the pod's spec named it (CRI <c>user_specified_image</c>; the kubelet sends the image id
/// as <paramref name="Reference"/>), reported back in ContainerStatus; empty when the request had none.
/// </param>
public sealed record ContainerImage(string Reference, string Id, string Ref, IReadOnlyList<string> LayerDirectories, string UserSpecified = "");
