using ZtGateway.Sources.Continuous;
using ZtGateway.Sources.Signals;

namespace ZtGateway.Tests.Signals;

public sealed class SignalReceiverTests
{
    [Fact]
    public void ReplayRetention_OutlastsTheOldestAcceptedSet_ByAMinute()
    {
        // The replay guard must still know a SET's id for as long as the receiver would accept that SET again.
        Assert.Equal(SignalReceiver.MaxAge + SignalReceiver.MaxClockSkew + TimeSpan.FromMinutes(1), ContinuousEvaluation.ReplayRetention);
    }
}
