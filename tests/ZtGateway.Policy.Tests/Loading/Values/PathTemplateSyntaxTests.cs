using ZtGateway.Policy.Loading.Values;

namespace ZtGateway.Policy.Tests.Loading.Values;

public sealed class PathTemplateSyntaxTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/payroll")]
    [InlineData("/payroll/")]
    [InlineData("/payroll/{id}")]
    [InlineData("/payroll/{id}/items/{item_id}")]
    [InlineData("/payroll/{**rest}")]
    [InlineData("/{**rest}")]
    [InlineData("/api/v1.0/~users")]
    public void Accepts_Template(string path)
    {
        Assert.Null(PathTemplateSyntax.Validate(path));
    }

    [Theory]
    [InlineData("payroll", "must start with '/'")]
    [InlineData("", "must start with '/'")]
    [InlineData("/pay roll", "must not hold spaces, '?' or '#'")]
    [InlineData("/payroll?x=1", "must not hold spaces, '?' or '#'")]
    [InlineData("/a//b", "has an empty segment ('//')")]
    [InlineData("//", "has an empty segment ('//')")]
    [InlineData("/a/{id", "has an unbalanced brace in segment '{id'")]
    [InlineData("/a/id}", "has an unbalanced brace in segment 'id}'")]
    [InlineData("/a/{{id}", "has an unbalanced brace in segment '{{id}'")]
    [InlineData("/a/x{id}", "segment 'x{id}' must be a literal, {name} or {**name}")]
    [InlineData("/a/{}", "has an invalid parameter name in segment '{}'")]
    [InlineData("/a/{*rest}", "has an invalid parameter name in segment '{*rest}'")]
    [InlineData("/a/{id}/{id}", "uses parameter 'id' twice")]
    [InlineData("/a/{**rest}/b", "has a catch-all '{**rest}' that is not the last segment")]
    [InlineData("/a/{**rest}/", "has a catch-all '{**rest}' that is not the last segment")]
    public void Rejects_Template(string path, string expected)
    {
        Assert.Equal(expected, PathTemplateSyntax.Validate(path));
    }
}
