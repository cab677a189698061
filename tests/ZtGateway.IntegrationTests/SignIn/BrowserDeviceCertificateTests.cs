using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Playwright;
using ZtGateway.IntegrationTests.Identity;
using ZtGateway.IntegrationTests.Infrastructure;

namespace ZtGateway.IntegrationTests.SignIn;

/// <summary>
/// A person in a real browser (headless Chromium) on a device whose MDM certificate the browser presents in the TLS
/// handshake: the device's posture is what the EDR bridge pushed, and a page that needs a compliant device follows it.
/// </summary>
[Collection(SharedBrowser.Name)]
[Trait("Category", "Interop")]
public sealed class BrowserDeviceCertificateTests(HeadlessChromium chromium)
{
    private const string Laptop = "urn:device:alice-laptop";

    [Fact]
    public async Task A_browser_with_a_device_certificate_passes_device_compliant_until_the_edr_pushes_a_noncompliant_posture()
    {
        using var pki = new WorkloadPki();
        await using var rig = await SignInRig.StartAsync(devicePki: pki);
        var finance = rig.Finance();
        using var laptop = pki.MdmDevice(Laptop);
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            // The listener's certificate is from the test's own CA; the client certificate is what matters here.
            IgnoreHTTPSErrors = true,
            ClientCertificates =
            [
                new ClientCertificate
                {
                    Origin = finance,
                    Cert = Encoding.ASCII.GetBytes(laptop.ExportCertificatePem()),
                    Key = Encoding.ASCII.GetBytes(laptop.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()),
                },
            ],
        });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();

        // Signed in, but the EDR has said nothing about the laptop yet: the device is missing.
        await page.GotoAsync(finance + "/device/expenses");
        await BrowserSignInTests.LogInAsync(page, "alice", mfa: false, backAt: finance);
        Assert.Contains("device-missing", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(rig.Portal.Requests, r => r.Path == "/device/expenses");

        var now = DateTimeOffset.UtcNow;
        Assert.Equal(HttpStatusCode.Accepted, await rig.PushPostureAsync(rig.Devices.Posture(now, Laptop, "finance")));
        var allowed = await page.GotoAsync(finance + "/device/expenses");
        Assert.Equal(200, allowed!.Status);
        var forwarded = rig.Portal.Requests.Single(r => r.Path == "/device/expenses");
        Assert.Contains(Laptop, Payload(forwarded.Headers["X-ZT-Assertion"]), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Accepted,
            await rig.PushPostureAsync(rig.Devices.Posture(now, Laptop, "finance", compliant: false, issuedAt: now.AddSeconds(1))));
        var refused = await page.GotoAsync(finance + "/device/expenses");
        Assert.Equal(403, refused!.Status);
        Assert.Contains("device-noncompliant", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.Single(rig.Portal.Requests, r => r.Path == "/device/expenses");
    }

    private static string Payload(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        return Encoding.UTF8.GetString(Convert.FromBase64String(payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=')));
    }
}
