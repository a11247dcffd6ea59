module dynamic-secrets.local/pause

go 1.24.0
