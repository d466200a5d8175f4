namespace Spherelet.Streaming;

public enum ClientInputKind
{
    /// <summary>Bytes for the process's stdin.</summary>
    Stdin,

    /// <summary>The client closed stdin.</summary>
    StdinEnd,

    /// <summary>The client's terminal changed size.</summary>
    Resize,
}
