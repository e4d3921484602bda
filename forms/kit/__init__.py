"""The form toolkit: what every legal form in forms/ is built from, and the registry behind ``forms``.

fields       field types and their declaration helpers (labels, help, required_if / only_if)
schema       ``Part`` (a group of fields) and ``FormSchema`` (a legal form with its Meta)
parts        groups of fields that several legal forms share (a parent, rated and assessed items …)
choices      the coded answers (stable codes, Vietnamese and English labels; the statistics count them)
messages     validation message codes and their texts in both languages
registry     form name (+ version) → schema; validate, describe, render
description  describe() and render() of a schema for the web renderer and the dossier
json_schema  the JSON Schema of a form's clean data, for the API
"""
