"""Tasks an agent might be routed with, each labelled with the skill sections that answer it.

Labels name sections by heading (or "Parent › Child" where a heading alone is ambiguous), as
`skills show NAME --section` accepts them. They were written from the skills' contents, before
any ranking was run, and were not changed to suit the ranker. The opening guidance of each
skill (title text and "How to use this skill") is always included, so it is never a label.
"""

SECTION_TASKS: list[tuple[str, str, list[str]]] = [
    # python-patterns
    (
        "python-patterns",
        "should this async endpoint call a blocking library?",
        ["2. Async or sync", "Choosing `async def` or `def` for an endpoint"],
    ),
    (
        "python-patterns",
        "we are starting an internal admin tool with user accounts and forms: FastAPI or Django?",
        ["Start from the product, not the library", "How they differ", "Questions that settle it"],
    ),
    (
        "python-patterns",
        "open a database session per request in FastAPI and close it when the request ends",
        ["6. FastAPI principles › Dependencies"],
    ),
    (
        "python-patterns",
        "validate the JSON body of the signup endpoint and normalise the email address",
        ["3. Type hints and Pydantic"],
    ),
    (
        "python-patterns",
        "the Django order list page runs hundreds of SQL queries, fix it",
        ["5. Django principles"],
    ),
    (
        "python-patterns",
        "send the welcome email after signup without making the request slow",
        ["7. Background work"],
    ),
    (
        "python-patterns",
        "pick between Celery and ARQ for the nightly report jobs",
        ["7. Background work"],
    ),
    (
        "python-patterns",
        "return consistent JSON errors from the API instead of stack traces",
        ["8. Error handling"],
    ),
    (
        "python-patterns",
        "how should the modules of our growing FastAPI service be organised",
        ["4. Project structure"],
    ),
    (
        "python-patterns",
        "add type hints to the billing module and get mypy to pass in CI",
        ["3. Type hints and Pydantic"],
    ),
    (
        "python-patterns",
        "write a test that the orders endpoint answers 404 for an unknown id",
        ["9. Testing"],
    ),
    (
        "python-patterns",
        "review this Python service for structural problems before we ship it",
        ["11. Anti-patterns", "10. Decision checklist"],
    ),
    (
        "python-patterns",
        "one request handler has to call three external HTTP APIs; make the calls concurrent",
        ["2. Async or sync"],
    ),
    (
        "python-patterns",
        "image resizing in the web app eats the CPU and slows every request",
        ["2. Async or sync", "7. Background work"],
    ),
    (
        "python-patterns",
        "where should the shared HTTP client and connection pool be created in a FastAPI app",
        ["6. FastAPI principles › Dependencies"],
    ),
    (
        "python-patterns",
        "check what the team already decided before this task and record my decision afterwards",
        ["amber integration › Before the task", "amber integration › After the task"],
    ),
    (
        "python-patterns",
        "how do I store a decision in amber with the right type and tags",
        ["amber integration › After the task"],
    ),
    (
        "python-patterns",
        "memory_manager.py auto exited with code 3, what does that mean and what do I do",
        ["amber integration › Before the task"],
    ),
    (
        "python-patterns",
        "replace the current-user dependency with a fake one in the API tests",
        ["6. FastAPI principles › Dependencies", "9. Testing"],
    ),
    (
        "python-patterns",
        "make a Django view that waits on a slow partner API async",
        ["5. Django principles", "2. Async or sync"],
    ),
    (
        "python-patterns",
        "should the API response models be the same classes as the ORM models",
        ["3. Type hints and Pydantic"],
    ),
    (
        "python-patterns",
        "which Python web framework for a small prototype we use for teaching",
        ["Start from the product, not the library", "How they differ"],
    ),
    (
        "python-patterns",
        "jobs started with asyncio.create_task in a request handler sometimes never run",
        ["7. Background work"],
    ),
    (
        "python-patterns",
        "my FastAPI route is declared async def but calls requests.get inside",
        ["Choosing `async def` or `def` for an endpoint", "2. Async or sync"],
    ),
    (
        "python-patterns",
        "where should business rules live, in the route handler or somewhere else",
        ["4. Project structure", "6. FastAPI principles › Dependencies"],
    ),
    # python-testing
    (
        "python-testing",
        "this test passes on its own but fails when the whole suite runs",
        ["8. Flaky tests"],
    ),
    (
        "python-testing",
        "share a temporary database fixture between several test files",
        ["3. Fixtures and conftest.py"],
    ),
    (
        "python-testing",
        "run the same validation test for a dozen different input strings",
        ["4. Parametrized and property-based tests"],
    ),
    (
        "python-testing",
        "mock the payment gateway in the order service tests",
        ["5. Mocks, fakes and stubs"],
    ),
    (
        "python-testing",
        "our test suite takes twenty minutes, make it faster",
        ["9. Coverage and speed"],
    ),
    (
        "python-testing",
        "test a coroutine that fetches data with httpx",
        ["7. Async code"],
    ),
    (
        "python-testing",
        "can we use SQLite in the tests even though production runs Postgres",
        ["6. Databases and external services"],
    ),
    (
        "python-testing",
        "configure pytest so a misspelled marker is an error",
        ["10. Layout and configuration"],
    ),
    (
        "python-testing",
        "unit tests or integration tests for the new pricing rules?",
        ["Levels and what each proves"],
    ),
    (
        "python-testing",
        "which parts of this module are not worth testing",
        ["What not to test"],
    ),
    (
        "python-testing",
        "assert that the function raises ValueError with a specific message",
        ["2. Writing a clear test"],
    ),
    (
        "python-testing",
        "a test fails every night shortly after midnight UTC",
        ["8. Flaky tests"],
    ),
    (
        "python-testing",
        "freeze the clock in a test of the invoice due date",
        ["5. Mocks, fakes and stubs"],
    ),
    (
        "python-testing",
        "roll back the database after each test with SQLAlchemy",
        ["6. Databases and external services"],
    ),
    (
        "python-testing",
        "fail the CI build when coverage drops below 85 percent",
        ["9. Coverage and speed", "11. Tests in CI"],
    ),
    (
        "python-testing",
        "find round-trip bugs in our JSON serializer with generated inputs",
        ["4. Parametrized and property-based tests"],
    ),
    (
        "python-testing",
        "run the tests on Python 3.10 through 3.13 in GitHub Actions",
        ["11. Tests in CI"],
    ),
    (
        "python-testing",
        "my patch() has no effect, the real function still runs in the test",
        ["5. Mocks, fakes and stubs"],
    ),
    (
        "python-testing",
        "an async test hangs and blocks the CI job forever",
        ["7. Async code"],
    ),
    (
        "python-testing",
        "where do test helpers and conftest files go in a src layout project",
        ["10. Layout and configuration", "3. Fixtures and conftest.py"],
    ),
    (
        "python-testing",
        "test a Django view that writes to the database",
        ["6. Databases and external services"],
    ),
    (
        "python-testing",
        "how do I compare floating point results in an assertion",
        ["2. Writing a clear test"],
    ),
    # git-workflow
    (
        "git-workflow",
        "write the commit message for the webhook retry fix",
        ["2. Commits and messages"],
    ),
    (
        "git-workflow",
        "bring my feature branch up to date with main before review",
        ["Rebase onto main", "Merge main in"],
    ),
    (
        "git-workflow",
        "squash the fixup commits on my branch before I open the pull request",
        ["Tidy commits before review"],
    ),
    (
        "git-workflow",
        "I committed an AWS key and already pushed it",
        ["9. Large files, secrets and ignores"],
    ),
    (
        "git-workflow",
        "find out which commit broke the CSV export",
        ["10. Investigating history"],
    ),
    (
        "git-workflow",
        "undo a commit that is already on main",
        ["6. Undoing things"],
    ),
    (
        "git-workflow",
        "resolve the conflicts in poetry.lock after rebasing",
        ["5. Resolving merge conflicts"],
    ),
    (
        "git-workflow",
        "tag and publish version 2.4.0",
        ["7. Tags and releases"],
    ),
    (
        "git-workflow",
        "should the team use GitFlow or trunk-based development",
        ["1. Branching model"],
    ),
    (
        "git-workflow",
        "review a colleague's pull request",
        ["4. Pull requests and review"],
    ),
    (
        "git-workflow",
        "set up pre-commit hooks that run ruff before each commit",
        ["8. Hooks and automation"],
    ),
    (
        "git-workflow",
        "I ran git reset --hard and lost two commits",
        ["6. Undoing things"],
    ),
    (
        "git-workflow",
        "ship a hotfix for the 2.3 release line",
        ["7. Tags and releases"],
    ),
    (
        "git-workflow",
        "we want to keep the ONNX model weights in the repository",
        ["9. Large files, secrets and ignores"],
    ),
    (
        "git-workflow",
        "work on an urgent fix while my feature branch is in the middle of a long build",
        ["11. Several lines of work at once"],
    ),
    (
        "git-workflow",
        "who changed this function last and why",
        ["10. Investigating history"],
    ),
    (
        "git-workflow",
        "my pull request is 3000 lines, how do I make it reviewable",
        ["4. Pull requests and review"],
    ),
    (
        "git-workflow",
        "force push my rebased branch without clobbering anyone",
        ["Rebase onto main"],
    ),
    (
        "git-workflow",
        "how should we name branches, and where do unrelated cleanups go",
        ["1. Branching model"],
    ),
    (
        "git-workflow",
        "enforce Conventional Commits messages in this repository",
        ["2. Commits and messages", "8. Hooks and automation"],
    ),
    (
        "git-workflow",
        "stop .env files from being committed",
        ["9. Large files, secrets and ignores"],
    ),
    (
        "git-workflow",
        "conflict markers everywhere during a rebase, which side is ours",
        ["5. Resolving merge conflicts"],
    ),
]
