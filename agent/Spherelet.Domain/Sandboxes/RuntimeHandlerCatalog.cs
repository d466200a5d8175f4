using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Sandboxes;

/// <summary>The configured runtime handlers; the default one serves requests that name none.</summary>
public sealed class RuntimeHandlerCatalog
{
    private readonly Dictionary<string, RuntimeHandler> _handlers;

    public RuntimeHandlerCatalog(IEnumerable<RuntimeHandler> handlers, string defaultHandler)
    {
        _handlers = handlers.ToDictionary(h => h.Name, StringComparer.Ordinal);
        if (!_handlers.TryGetValue(defaultHandler, out var found))
        {
            throw new ArgumentException($"the default runtime handler '{defaultHandler}' is not configured", nameof(defaultHandler));
        }

        Default = found;
    }

    public RuntimeHandler Default { get; }

    public IReadOnlyCollection<RuntimeHandler> All => _handlers.Values;

    /// <summary>The handler of that name (the default for an empty name); false when none is configured.</summary>
    public bool TryResolve(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out RuntimeHandler handler)
    {
        if (string.IsNullOrEmpty(name))
        {
            handler = Default;
            return true;
        }

        return _handlers.TryGetValue(name, out handler);
    }

    /// <exception cref="InvalidRequestException">No handler of that name.</exception>
    public RuntimeHandler Resolve(string name) =>
        string.IsNullOrEmpty(name) ? Default
        : _handlers.TryGetValue(name, out var handler) ? handler
        : throw new InvalidRequestException(
            $"runtime handler '{name}' is not configured (configured: {string.Join(", ", _handlers.Keys.Order(StringComparer.Ordinal))})");
}
