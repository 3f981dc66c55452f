module example.com/pulumi-azure-oidc-go-example

go 1.19
