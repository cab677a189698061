using Microsoft.Extensions.Logging;
using Moq;
using ZtGateway.Audit;
using ZtGateway.Policy.Configuration;

namespace ZtGateway.Tests.Audit;

/// <summary>The O_APPEND descriptor: a path that cannot be opened is refused at once, not found out line by line.</summary>
public sealed class AppendOnlyFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ztgw-append-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Open_AFolder_Throws()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var failure = Assert.Throws<IOException>(() => AppendOnlyFile.Open(_directory));
        Assert.Contains("open " + _directory, failure.Message, StringComparison.Ordinal);
        Assert.Equal(21, failure.HResult); // EISDIR
    }

    [Fact]
    public void SinkThatCannotBeOpened_IsReportedAtStart()
    {
        var logger = new Mock<ILogger>();
        logger.Setup(l => l.IsEnabled(It.IsAny<LogLevel>())).Returns(true);

        using var trail = new AuditTrail(new AuditSettings { Sinks = ["file:" + _directory] }, logger.Object);

        logger.Verify(l => l.Log(LogLevel.Error, It.Is<EventId>(e => e.Id == 501), It.IsAny<It.IsAnyType>(), It.IsAny<IOException>(),
            It.IsAny<Func<It.IsAnyType, Exception?, string>>()), Times.Once);
    }
}
