pytest_plugins = [
    "tests.integration.fixtures_servers",
    "tests.integration.fixtures_cluster",
]
