# Images for docker-compose.yml: `ztgw` (the gateway and its dev commands) and `sample` (the demo upstream).
# Build one with: docker build --target ztgw -t ztgw:dev .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet publish src/ZtGateway.Cli/ZtGateway.Cli.csproj -c Release -o /out/ztgw \
 && dotnet publish src/ZtGateway.SampleService/ZtGateway.SampleService.csproj -c Release -o /out/sample

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS ztgw
WORKDIR /app
COPY --from=build /out/ztgw .
# Writable places for the non-root user: the gateway's own state and signing key, and the development keys.
# A new named volume mounted on them starts with this ownership.
RUN mkdir -p /etc/ztgw /var/lib/ztgw /var/lib/ztgw-dev-keys \
 && chown "$APP_UID" /var/lib/ztgw /var/lib/ztgw-dev-keys
USER $APP_UID
ENTRYPOINT ["dotnet", "ztgw.dll"]
CMD ["run", "--config", "/etc/ztgw/gateway.yaml"]

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS sample
WORKDIR /app
COPY --from=build /out/sample .
USER $APP_UID
ENTRYPOINT ["dotnet", "ZtGateway.SampleService.dll"]
