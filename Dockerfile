# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with every dependency, then ship only production
# dependencies, the compiled JavaScript, the migrations and the static assets, as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
# The merge patch and the realtime protocol are plain ES modules shared with the browser; the
# server imports them from here.
COPY public/js/merge-patch.js public/js/merge-patch.d.ts public/js/protocol.js public/js/protocol.d.ts public/js/
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8080 HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY db/migrations db/migrations
COPY public public
# The embedded default (no DATABASE_URL) keeps its data here; production sets DATABASE_URL.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8080
# SIGTERM drains (sockets closed with 4000, leadership handed over) before the process exits.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/main.js"]
