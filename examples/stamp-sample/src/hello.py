#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""A tiny tool: prints a greeting."""


def main() -> None:
    print("hello from the stamp sample")


if __name__ == "__main__":
    main()
