using ZtGateway.Policy.Analysis;
using ZtGateway.Policy.Engine;

namespace ZtGateway.Policy.Tests.Analysis;

public sealed class RequestAttributesTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void User_BecomesAVerifiedPrincipal_AuthenticatedAuthAgeAgo()
    {
        var context = new RequestAttributes
        {
            Segment = "hr",
            Method = "get",
            Path = "/x",
            User = new UserAttributes { Subject = "alice", Groups = ["g"], Amr = ["mfa"], AuthAge = TimeSpan.FromMinutes(10) },
            Device = new DeviceAttributes { Segment = "hr", Compliant = true },
        }.ToContext(Now);

        Assert.Equal((TokenStatus.Valid, PrincipalKind.User, "alice", "GET"), (context.Token, context.Principal!.Kind, context.Principal.Subject, context.Method));
        Assert.Equal(Now.AddMinutes(-10), context.Principal.AuthTime);
        Assert.Equal((DeviceStatus.Verified, "hr", true), (context.DeviceStatus, context.Device!.Segment, context.Device.Compliant));
    }

    [Fact]
    public void Workload_BecomesAWorkloadPrincipal()
    {
        var context = new RequestAttributes { Segment = "hr", Path = "/x", Workload = "spiffe://t/w" }.ToContext(Now);

        Assert.Equal((PrincipalKind.Workload, "spiffe://t/w"), (context.Principal!.Kind, context.Principal.WorkloadId));
        Assert.Equal(DeviceStatus.Absent, context.DeviceStatus);
    }

    [Theory]
    [InlineData(null, TokenStatus.Missing)]
    [InlineData(TokenStatus.Expired, TokenStatus.Expired)]
    public void Token_IsMissingWithoutACaller_OrWhatIsSimulated(TokenStatus? simulated, TokenStatus expected)
    {
        var context = new RequestAttributes { Segment = "hr", Path = "/x", Token = simulated, Workload = simulated is null ? null : "w" }.ToContext(Now);

        Assert.Equal(expected, context.Token);
        Assert.Null(context.Principal);
    }

    [Fact]
    public void Rejects_UserAndWorkloadTogether()
    {
        var attributes = new RequestAttributes { Segment = "hr", Path = "/x", Workload = "w", User = new UserAttributes { Subject = "u" } };

        Assert.Throws<ArgumentException>(() => attributes.ToContext(Now));
    }
}
