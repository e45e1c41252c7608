package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// The checks below run at start, so that a bad address or URL is one clear
// message naming its variable (exit 2) rather than a failure halfway through
// a command. Each returns "" when the value is good.

// checkAPIURL accepts an absolute http(s) URL with a host and no query or
// fragment: the API root, used exactly as given.
func checkAPIURL(s string) string {
	const accepted = "accepted: the API root, https://api.github.com or https://HOST/api/v3 for GitHub Enterprise Server"
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a URL; %s", s, accepted)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Sprintf("%q is not an http(s) URL; %s", s, accepted)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("%q has no host; %s", s, accepted)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Sprintf("%q has a query, fragment or user; %s", s, accepted)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%q has a bad port; %s", s, accepted)
		}
	}
	return ""
}

// checkListenAddr accepts what net.Listen("tcp", s) does: host:port, with an
// empty host for every interface.
func checkListenAddr(s string) string {
	const accepted = `accepted: host:port, like ":8080" (every interface) or "127.0.0.1:8080"`
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Sprintf("%q is not host:port; %s", s, accepted)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("%q: port %q is not a number from 0 to 65535; %s", s, port, accepted)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Sprintf("%q: host %q is not a host name or address; %s", s, host, accepted)
	}
	return ""
}

// checkDatabaseURL accepts what pgx can connect with. The message never
// repeats the value, which may hold a password.
func checkDatabaseURL(u DatabaseURL) string {
	_, err := pgconn.ParseConfig(u.Reveal())
	if err == nil {
		return ""
	}
	why := "it could not be parsed"
	// pgconn's ParseConfigError carries the connection string (with the
	// password masked) and the cause; only the cause is shown.
	// A *url.Error's text quotes the whole URL, password and all, so only
	// what it says is wrong is kept.
	var pe *pgconn.ParseConfigError
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		why = ue.Err.Error()
	case errors.As(err, &pe) && pe.Unwrap() != nil:
		why = pe.Unwrap().Error()
	}
	if pw := passwordOf(u.Reveal()); pw != "" && strings.Contains(why, pw) {
		why = "it could not be parsed"
	}
	return fmt.Sprintf("not a PostgreSQL connection string (%s); accepted: postgres://USER:PASSWORD@HOST:5432/DATABASE or host=HOST user=USER dbname=DATABASE", why)
}

// passwordOf finds the password in a connection string well enough to make
// sure an error message does not repeat it.
func passwordOf(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		return pw
	}
	if m := dsnPassword.FindStringSubmatch(dsn); m != nil {
		return strings.Trim(m[2], "'")
	}
	// An unparseable URL: whatever stands between the first ':' after the
	// scheme and the last '@'.
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at > 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				return pw
			}
		}
	}
	return ""
}
