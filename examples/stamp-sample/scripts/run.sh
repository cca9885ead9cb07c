#!/bin/sh
# A script with Windows line endings: the block is written with CRLF too.
echo "sample"
