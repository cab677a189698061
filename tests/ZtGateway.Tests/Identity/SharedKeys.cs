namespace ZtGateway.Tests.Identity;

/// <summary>RSA keys made once per test class: generating 2048-bit keys is the slow part of these tests.</summary>
public sealed class SharedKeys : IDisposable
{
    internal TestKey Primary { get; } = TestKey.Rsa();

    internal TestKey Other { get; } = TestKey.Rsa();

    public void Dispose()
    {
        Primary.Dispose();
        Other.Dispose();
    }
}
