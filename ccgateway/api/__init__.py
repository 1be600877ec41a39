"""The REST API: thin routes over `CenterService`, `WorkService` and `DialerService`, keys
and roles, one error table. The app is made by `application.create_api`; this package
imports nothing itself, so a command that needs one part (the account rules of
`ccgateway users`) does not import every route."""
