using ZtGateway.Identity;
using ZtGateway.Policy.Configuration;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Hosting;

/// <summary>
/// Everything a request is decided with, built together from one valid policy and swapped in as a whole,
/// so a request never sees half of a reload.
/// </summary>
internal sealed class GatewayState : IDisposable
{
    public GatewayState(PolicyEngine engine, ITokenValidator tokens)
    {
        Engine = engine;
        Tokens = tokens;
    }

    public PolicyEngine Engine { get; }

    public ITokenValidator Tokens { get; }

    public PolicySet Policy => Engine.Policy;

    public void Dispose() => (Tokens as IDisposable)?.Dispose();
}

/// <summary>Holds the live <see cref="GatewayState"/>; readers take a reference once per request.</summary>
internal sealed class GatewayStateHolder
{
    private volatile GatewayState _current;

    public GatewayStateHolder(GatewayState initial) => _current = initial;

    public GatewayState Current => _current;

    /// <summary>Raised after a new state has been swapped in.</summary>
    public event Action<GatewayState>? Changed;

    public GatewayState Swap(GatewayState next)
    {
        var previous = Interlocked.Exchange(ref _current, next);
        Changed?.Invoke(next);
        return previous;
    }
}
