namespace Spherelet.Streaming;

/// <summary>What a remote command's client sent, whatever the protocol.</summary>
public readonly record struct ClientInput(ClientInputKind Kind, ReadOnlyMemory<byte> Data, TerminalSize Size)
{
    public static ClientInput Stdin(ReadOnlyMemory<byte> data) => new(ClientInputKind.Stdin, data, default);

    public static ClientInput StdinEnd() => new(ClientInputKind.StdinEnd, default, default);

    public static ClientInput Resize(TerminalSize size) => new(ClientInputKind.Resize, default, size);
}
