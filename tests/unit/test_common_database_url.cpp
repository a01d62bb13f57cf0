#include "creditwatch/common/database_url.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using creditwatch::database_url_passwords;
using creditwatch::is_database_url;
using creditwatch::redact_database_url;

TEST_SUITE("common_database_url") {
  TEST_CASE("only the schemes libpq takes are database URLs") {
    CHECK(is_database_url("postgresql://db/creditwatch"));
    CHECK(is_database_url("postgres://u:p@db:5432/creditwatch"));
    CHECK(is_database_url("postgresql:///creditwatch?host=/run/postgresql"));
    CHECK_FALSE(is_database_url("mysql://db/creditwatch"));
    CHECK_FALSE(is_database_url("creditwatch.db"));
    CHECK_FALSE(is_database_url("host=db dbname=creditwatch"));
    CHECK_FALSE(is_database_url("PostgreSQL//db"));
  }

  TEST_CASE("the user info password is hidden") {
    CHECK(redact_database_url("postgresql://cw:s3cret@db:5432/creditwatch") == "postgresql://cw:***@db:5432/creditwatch");
    CHECK(redact_database_url("postgres://cw:s3cret@db/creditwatch?sslmode=require") ==
          "postgres://cw:***@db/creditwatch?sslmode=require");
    SUBCASE("with several hosts and IPv6") {
      CHECK(redact_database_url("postgresql://cw:pw@[::1]:5432,db2:5433/cw?target_session_attrs=read-write") ==
            "postgresql://cw:***@[::1]:5432,db2:5433/cw?target_session_attrs=read-write");
    }
    SUBCASE("a password holding a raw '@' or ':' leaves nothing behind") {
      CHECK(redact_database_url("postgresql://cw:p@ss:w@rd@db/cw") == "postgresql://cw:***@db/cw");
    }
    SUBCASE("percent-encoded") {
      CHECK(redact_database_url("postgresql://cw:p%40ss@db/cw") == "postgresql://cw:***@db/cw");
    }
  }

  TEST_CASE("password parameters are hidden") {
    CHECK(redact_database_url("postgresql://cw@db/cw?password=s3cret") == "postgresql://cw@db/cw?password=***");
    CHECK(redact_database_url("postgresql://db/cw?sslmode=require&password=s3cret&connect_timeout=5") ==
          "postgresql://db/cw?sslmode=require&password=***&connect_timeout=5");
    CHECK(redact_database_url("postgresql://db/cw?sslpassword=keypass&PASSWORD=x") ==
          "postgresql://db/cw?sslpassword=***&PASSWORD=***");
    SUBCASE("both forms at once") {
      CHECK(redact_database_url("postgresql://cw:one@db/cw?password=two") == "postgresql://cw:***@db/cw?password=***");
    }
    SUBCASE("the keyword form, passed by mistake") {
      CHECK(redact_database_url("host=db password=s3cret dbname=cw") == "host=db password=*** dbname=cw");
    }
    SUBCASE("a parameter whose name only ends in password is left alone") {
      CHECK(redact_database_url("postgresql://db/cw?application_name=nopassword=x") ==
            "postgresql://db/cw?application_name=nopassword=x");
    }
  }

  TEST_CASE("a URL without a password is unchanged") {
    for (const std::string url : {"postgresql://cw@db:5432/creditwatch", "postgresql://db/cw?sslmode=verify-full",
                                  "postgresql:///cw?host=/run/postgresql", "postgresql://", "postgresql://db:5432/cw"}) {
      CHECK(redact_database_url(url) == url);
      CHECK(database_url_passwords(url).empty());
    }
  }

  TEST_CASE("the passwords are listed as written and decoded, for log redaction") {
    const auto passwords = database_url_passwords("postgresql://cw:p%40ss@db/cw?password=two");
    CHECK(passwords == std::vector<std::string>{"p%40ss", "p@ss", "two"});
  }
}
