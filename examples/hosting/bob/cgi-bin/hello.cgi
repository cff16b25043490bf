#!/bin/sh
# bob.localhost's CGI script (RFC 3875): headers, a blank line, then the body.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'hello from %s via CGI\n' "bob.localhost"
printf 'REQUEST_METHOD=%s\nSCRIPT_NAME=%s\nPATH_INFO=%s\nQUERY_STRING=%s\nSERVER_NAME=%s\n' "$REQUEST_METHOD" "$SCRIPT_NAME" "$PATH_INFO" "$QUERY_STRING" "$SERVER_NAME"
