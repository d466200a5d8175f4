namespace Spherelet.Domain.Streaming;

/// <summary>What a streaming URL stands for: the CRI request it was made for, kept on the host until the URL is used.</summary>
public abstract record StreamRequest;
